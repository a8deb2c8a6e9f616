/**
 * Where the estimate gets an hourly price for an instance type: the user's overrides first,
 * then live prices (when fetched), then the embedded snapshot. Missing prices are a user
 * mistake reported with the ways to supply one.
 */
import { CostError } from './errors';
import {
  PRICE_SNAPSHOT,
  snapshotRegions,
  type HostedCiPrice,
  type InstancePrices,
  type PriceSnapshot,
  type SourcedPrice,
} from './price-snapshot';

export type PriceKind = 'onDemand' | 'spot';

/** Printed in every report, so nobody mistakes a snapshot for a quote. */
export interface PriceSource {
  readonly kind: 'snapshot' | 'live';
  /** YYYY-MM-DD: the snapshot date, or the day live prices were fetched. */
  readonly date: string;
  readonly region: string;
  /** One line saying what the prices are. */
  readonly description: string;
}

/** A user-supplied price for one instance type, USD per hour. */
export interface PriceOverride {
  readonly onDemand?: number;
  readonly spot?: number;
}

export type PriceOverrides = Readonly<Record<string, PriceOverride>>;

/** Prices by instance type; either kind may be missing. */
export type PriceLayer = Readonly<Record<string, Partial<InstancePrices>>>;

export interface PriceBook {
  readonly source: PriceSource;
  readonly hostedCi: readonly HostedCiPrice[];
  /** Things the reader must know about the prices (fallbacks, per-type gaps). */
  readonly warnings: readonly string[];
  /** The hourly price of a type; throws {@link CostError} when no layer has it. */
  price(instanceType: string, kind: PriceKind): SourcedPrice;
}

const KIND_LABEL: Record<PriceKind, string> = { onDemand: 'on-demand', spot: 'spot' };

/** Props for {@link createPriceBook}. */
export interface PriceBookProps {
  readonly source: PriceSource;
  /** Consulted in order; the first with a price wins. */
  readonly layers: readonly PriceLayer[];
  /** @default the snapshot's hosted CI prices */
  readonly hostedCi?: readonly HostedCiPrice[];
  /** @default none */
  readonly warnings?: readonly string[];
}

export function createPriceBook(props: PriceBookProps): PriceBook {
  return {
    source: props.source,
    hostedCi: props.hostedCi ?? PRICE_SNAPSHOT.hostedCi,
    warnings: props.warnings ?? [],
    price(instanceType: string, kind: PriceKind): SourcedPrice {
      for (const layer of props.layers) {
        const found = layer[instanceType]?.[kind];
        if (found) return found;
      }
      throw new CostError(
        `no ${KIND_LABEL[kind]} price for ${instanceType} in ${props.source.region} (${props.source.kind} prices, ${props.source.date}); ` +
          `add it to the config as cost.prices["${instanceType}"].${kind} or pass --price ${instanceType}:${KIND_LABEL[kind]}=<USD per hour>`,
      );
    },
  };
}

/** The overrides as a price layer, each figure labelled as the user's. */
export function overrideLayer(overrides: PriceOverrides, origin: string): PriceLayer {
  const layer: Record<string, Partial<InstancePrices>> = {};
  for (const [type, override] of Object.entries(overrides)) {
    const prices: { onDemand?: SourcedPrice; spot?: SourcedPrice } = {};
    if (override.onDemand !== undefined) prices.onDemand = { usdPerHour: override.onDemand, provenance: `override (${origin})` };
    if (override.spot !== undefined) prices.spot = { usdPerHour: override.spot, provenance: `override (${origin})` };
    layer[type] = prices;
  }
  return layer;
}

/** Merges override sets; later sets win per type and kind (config, then command line). */
export function mergeOverrides(...sets: readonly PriceOverrides[]): PriceOverrides {
  const merged: Record<string, PriceOverride> = {};
  for (const set of sets) {
    for (const [type, override] of Object.entries(set)) merged[type] = { ...merged[type], ...override };
  }
  return merged;
}

/** The snapshot's prices for a region; throws {@link CostError} for a region it does not cover. */
export function snapshotLayer(region: string, snapshot: PriceSnapshot = PRICE_SNAPSHOT): PriceLayer {
  const regional = snapshot.regions[region];
  if (!regional) {
    const known = snapshot === PRICE_SNAPSHOT ? snapshotRegions() : Object.keys(snapshot.regions);
    throw new CostError(
      `no price snapshot for region "${region}"; snapshot regions: ${known.join(', ')}. Use --live to fetch its prices from AWS`,
    );
  }
  return regional.instanceTypes;
}

/** The source line for snapshot prices. */
export function snapshotSource(region: string, snapshot: PriceSnapshot = PRICE_SNAPSHOT): PriceSource {
  return {
    kind: 'snapshot',
    date: snapshot.date,
    region,
    description: `${snapshot.source}; ${snapshot.regions[region]?.basis ?? 'no snapshot for this region'}`,
  };
}

/** A price book from the snapshot and the user's overrides. */
export function snapshotPriceBook(region: string, overrides: PriceOverrides = {}, warnings: readonly string[] = []): PriceBook {
  return createPriceBook({ source: snapshotSource(region), layers: [overrideLayer(overrides, 'user'), snapshotLayer(region)], warnings });
}
