/**
 * The embedded, dated price snapshot the cost estimate uses when `--live` is not given (and
 * when live prices cannot be fetched). Every figure carries its provenance, because users
 * must be able to tell a recorded list price from a derived one.
 *
 * Pure data and arithmetic: no AWS SDK. Prices are USD per instance-hour, Linux, shared
 * tenancy. Spot is a moving market; the figures here are typical, not quotes.
 */

/** One price and where it came from. */
export interface SourcedPrice {
  /** USD per instance-hour. */
  readonly usdPerHour: number;
  /** How the figure was obtained, in words a reader can check. */
  readonly provenance: string;
}

/** On-demand and typical spot price of one instance type in one region. */
export interface InstancePrices {
  readonly onDemand: SourcedPrice;
  readonly spot: SourcedPrice;
}

/** Prices of one region. */
export interface RegionPriceSnapshot {
  readonly region: string;
  /** How this region's figures relate to the recorded ones. */
  readonly basis: string;
  readonly instanceTypes: Readonly<Record<string, InstancePrices>>;
}

/** A hosted CI offering, priced per 1,000 job-minutes on its smallest 2-vCPU Linux machine. */
export interface HostedCiPrice {
  readonly id: 'gitlab-com' | 'github-x64' | 'github-arm64';
  readonly name: string;
  readonly usdPer1000Minutes: number;
  /** The date the list price applies from or was recorded on (YYYY-MM-DD). */
  readonly date: string;
  readonly provenance: string;
}

export interface PriceSnapshot {
  /** YYYY-MM-DD */
  readonly date: string;
  readonly source: string;
  readonly currency: 'USD';
  readonly regions: Readonly<Record<string, RegionPriceSnapshot>>;
  readonly hostedCi: readonly HostedCiPrice[];
}

/**
 * The snapshot date. The us-east-1 list prices were recorded in January 2026 (the field
 * notes say "2026-01" without a day); the first of the month is used as the day.
 */
export const SNAPSHOT_DATE = '2026-01-01';

const RECORDED = 'AWS EC2 on-demand list price, us-east-1, Linux, recorded 2026-01';
const RECALLED = 'AWS EC2 on-demand list price, us-east-1, Linux (best knowledge of the 2026-01 list price; not in the recorded notes)';

/** us-east-1 on-demand prices of the `large` size, as recorded or recalled. */
const US_EAST_1_LARGE: Readonly<Record<string, { usdPerHour: number; provenance: string }>> = {
  m5: { usdPerHour: 0.096, provenance: RECORDED },
  m6i: { usdPerHour: 0.096, provenance: RECORDED },
  m7i: { usdPerHour: 0.1008, provenance: RECORDED },
  c5: { usdPerHour: 0.085, provenance: RECORDED },
  m6g: { usdPerHour: 0.077, provenance: RECORDED },
  m7g: { usdPerHour: 0.0816, provenance: RECORDED },
  m8g: { usdPerHour: 0.08976, provenance: RECORDED },
  c6g: { usdPerHour: 0.068, provenance: RECORDED },
  c7g: { usdPerHour: 0.0725, provenance: RECORDED },
  c8g: { usdPerHour: 0.07976, provenance: RECORDED },
  t4g: { usdPerHour: 0.0672, provenance: RECORDED },
  r6g: { usdPerHour: 0.1008, provenance: RECALLED },
  r7g: { usdPerHour: 0.1071, provenance: RECALLED },
};

/** Prices recorded for a size other than large, which take precedence over the derivation. */
const US_EAST_1_RECORDED_OTHER_SIZES: Readonly<Record<string, number>> = {
  'm5.xlarge': 0.192,
};

/**
 * Average spot saving against on-demand, by family. Families the AWS Spot Instance Advisor
 * figures were recorded for (2025-06) use them; the others use a round, conservative 50%.
 */
const SPOT_SAVING: Readonly<Record<string, { saving: number; provenance: string }>> = {
  m6g: { saving: 0.6, provenance: 'AWS Spot Instance Advisor average saving 60% (recorded 2025-06)' },
  m7g: { saving: 0.64, provenance: 'AWS Spot Instance Advisor average saving 64% (recorded 2025-06)' },
  c7g: { saving: 0.49, provenance: 'AWS Spot Instance Advisor average saving 49% (recorded 2025-06)' },
  c8g: { saving: 0.61, provenance: 'AWS Spot Instance Advisor average saving 61% (recorded 2025-06)' },
};
const ASSUMED_SPOT_SAVING = 0.5;
const ASSUMED_SPOT_PROVENANCE =
  'assumed 50% saving (no recorded Spot Instance Advisor figure for this family; use --live or a price override)';

/** Sizes included for every family; AWS prices sizes linearly within a family. */
const SIZES: Readonly<Record<string, number>> = { large: 1, xlarge: 2 };

/**
 * Regions beside us-east-1 and their price level relative to it. AWS regional premiums are
 * close to uniform across current general-purpose families, so one factor per region derived
 * from m5.large is a fair approximation; `--live` gives exact figures.
 */
const REGIONS: Readonly<Record<string, { factor: number; basis: string }>> = {
  'us-east-1': { factor: 1, basis: 'recorded us-east-1 list prices (see each figure)' },
  'us-west-2': { factor: 1, basis: 'us-east-1 prices: US West (Oregon) lists the same prices as US East (N. Virginia) for these families' },
  'eu-west-1': {
    factor: 0.107 / 0.096,
    basis:
      'us-east-1 price x 1.1146 (eu-west-1 m5.large list price $0.107 / us-east-1 $0.096, best knowledge of list prices), rounded to 4 decimals',
  },
  'eu-central-1': {
    factor: 0.115 / 0.096,
    basis:
      'us-east-1 price x 1.1979 (eu-central-1 m5.large list price $0.115 / us-east-1 $0.096, best knowledge of list prices), rounded to 4 decimals',
  },
};

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function buildRegion(region: string, factor: number, basis: string): RegionPriceSnapshot {
  const instanceTypes: Record<string, InstancePrices> = {};
  for (const [family, large] of Object.entries(US_EAST_1_LARGE)) {
    for (const [size, multiple] of Object.entries(SIZES)) {
      const type = `${family}.${size}`;
      const recorded = US_EAST_1_RECORDED_OTHER_SIZES[type];
      let usEast1 = large.usdPerHour * multiple;
      let provenance =
        multiple === 1
          ? large.provenance
          : `${multiple} x ${family}.large (${large.provenance}); AWS prices sizes linearly within a family`;
      if (recorded !== undefined) {
        usEast1 = recorded;
        provenance = RECORDED;
      }
      const onDemandPrice = factor === 1 ? usEast1 : round4(usEast1 * factor);
      const onDemandProvenance = factor === 1 ? provenance : `${basis}; us-east-1 figure: ${provenance}`;
      const spot = SPOT_SAVING[family] ?? { saving: ASSUMED_SPOT_SAVING, provenance: ASSUMED_SPOT_PROVENANCE };
      instanceTypes[type] = {
        onDemand: { usdPerHour: onDemandPrice, provenance: region === 'us-east-1' ? provenance : onDemandProvenance },
        spot: { usdPerHour: round4(onDemandPrice * (1 - spot.saving)), provenance: `on-demand x (1 - ${spot.saving}): ${spot.provenance}` },
      };
    }
  }
  return { region, basis, instanceTypes };
}

/** The snapshot itself. */
export const PRICE_SNAPSHOT: PriceSnapshot = {
  date: SNAPSHOT_DATE,
  source: 'embedded snapshot of AWS EC2 list prices (Linux, shared tenancy) and typical spot prices',
  currency: 'USD',
  regions: Object.fromEntries(Object.entries(REGIONS).map(([region, { factor, basis }]) => [region, buildRegion(region, factor, basis)])),
  hostedCi: [
    {
      id: 'gitlab-com',
      name: 'GitLab.com hosted runner (small Linux, 2 vCPU)',
      usdPer1000Minutes: 10,
      date: '2026-01-01',
      provenance:
        'GitLab.com additional compute minutes: $10 per 1,000 at cost factor 1 (small 2-vCPU Linux runner); 2026 pricing as GitLab Credits',
    },
    {
      id: 'github-x64',
      name: 'GitHub Actions hosted runner (Linux x64, 2 cores)',
      usdPer1000Minutes: 6,
      date: '2026-01-01',
      provenance: 'GitHub Actions per-minute list price for 2-core Linux x64 from 2026-01-01: $0.006/min',
    },
    {
      id: 'github-arm64',
      name: 'GitHub Actions hosted runner (Linux arm64, 2 cores)',
      usdPer1000Minutes: 5,
      date: '2026-01-01',
      provenance: 'GitHub Actions per-minute list price for 2-core Linux arm64 from 2026-01-01: $0.005/min',
    },
  ],
};

/** Regions the snapshot has prices for. */
export function snapshotRegions(): string[] {
  return Object.keys(PRICE_SNAPSHOT.regions);
}
