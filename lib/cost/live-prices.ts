/**
 * Live prices for `runner-fleet cost --live`: on-demand from the AWS Price List API
 * (GetProducts) and current spot from EC2 DescribeSpotPriceHistory. Any failure (no
 * credentials, no network, throttling) falls back to the embedded snapshot with a warning
 * saying why, so the command still answers.
 *
 * The only lib/cost file that talks to AWS. The SDK clients are imported dynamically, and the
 * CLI imports this file dynamically, so nothing AWS is loaded unless `--live` is given.
 */
import type { _InstanceType, EC2Client } from '@aws-sdk/client-ec2';
import type { PricingClient } from '@aws-sdk/client-pricing';
import { CostError } from './errors';
import {
  createPriceBook,
  overrideLayer,
  snapshotLayer,
  snapshotPriceBook,
  snapshotSource,
  type PriceBook,
  type PriceLayer,
  type PriceOverrides,
} from './price-book';
import { PRICE_SNAPSHOT, type InstancePrices, type SourcedPrice } from './price-snapshot';

/** The Price List API is served from a few regions only; us-east-1 is one and has every region's prices. */
export const PRICING_ENDPOINT_REGION = 'us-east-1';

/** Options of {@link livePriceBook}. */
export interface LivePriceOptions {
  /** Region whose prices are fetched. */
  readonly region: string;
  /** Types to fetch: the fleets' and the baseline's. */
  readonly instanceTypes: readonly string[];
  /** @default none */
  readonly overrides?: PriceOverrides;
  /** @default a client for us-east-1 with the default credential chain */
  readonly pricingClient?: PricingClient;
  /** @default a client for `region` with the default credential chain */
  readonly ec2Client?: EC2Client;
  /** @default the current time */
  readonly now?: Date;
}

/** Live prices layered over the snapshot, or the snapshot alone with a warning when AWS cannot be asked. */
export async function livePriceBook(options: LivePriceOptions): Promise<PriceBook> {
  const overrides = options.overrides ?? {};
  const types = [...new Set(options.instanceTypes)];
  let live: PriceLayer;
  try {
    live = await fetchLivePrices(options, types);
  } catch (error) {
    // Only AWS (SDK, network, credentials) fails in here: every failure means "ask the snapshot".
    const warning = `live prices unavailable (${describeAwsError(error)}); using the price snapshot of ${PRICE_SNAPSHOT.date} instead`;
    if (!PRICE_SNAPSHOT.regions[options.region]) {
      throw new CostError(`${warning.replace(/; using.*$/, '')}, and there is no price snapshot for region "${options.region}"`);
    }
    return snapshotPriceBook(options.region, overrides, [warning]);
  }
  const warnings: string[] = [];
  const layers: PriceLayer[] = [overrideLayer(overrides, 'user'), live];
  const hasSnapshot = PRICE_SNAPSHOT.regions[options.region] !== undefined;
  if (hasSnapshot) layers.push(snapshotLayer(options.region));
  for (const type of types) {
    for (const kind of ['onDemand', 'spot'] as const) {
      if (live[type]?.[kind] || overrides[type]?.[kind] !== undefined) continue;
      const label = kind === 'onDemand' ? 'on-demand' : 'spot';
      if (hasSnapshot && PRICE_SNAPSHOT.regions[options.region].instanceTypes[type])
        warnings.push(`no live ${label} price for ${type} in ${options.region}; using the snapshot's`);
    }
  }
  const date = (options.now ?? new Date()).toISOString().slice(0, 10);
  return createPriceBook({
    source: {
      kind: 'live',
      date,
      region: options.region,
      description: `AWS Price List API (on-demand, Linux, shared tenancy) and EC2 spot price history (Linux/UNIX, mean of the current price in each AZ), fetched ${date}${
        hasSnapshot ? `; gaps filled from ${snapshotSource(options.region).description}` : ''
      }`,
    },
    layers,
    warnings,
  });
}

async function fetchLivePrices(options: LivePriceOptions, types: readonly string[]): Promise<PriceLayer> {
  const pricingSdk = await import('@aws-sdk/client-pricing');
  const ec2Sdk = await import('@aws-sdk/client-ec2');
  const clientConfig = { maxAttempts: 2, requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } };
  const pricing = options.pricingClient ?? new pricingSdk.PricingClient({ region: PRICING_ENDPOINT_REGION, ...clientConfig });
  const ec2 = options.ec2Client ?? new ec2Sdk.EC2Client({ region: options.region, ...clientConfig });
  const layer: Record<string, { onDemand?: SourcedPrice; spot?: SourcedPrice }> = {};
  const entry = (type: string) => (layer[type] ??= {});

  for (const type of types) {
    const response = await pricing.send(
      new pricingSdk.GetProductsCommand({
        ServiceCode: 'AmazonEC2',
        Filters: [
          ['instanceType', type],
          ['regionCode', options.region],
          ['operatingSystem', 'Linux'],
          ['tenancy', 'Shared'],
          ['preInstalledSw', 'NA'],
          ['capacitystatus', 'Used'],
        ].map(([Field, Value]) => ({ Type: pricingSdk.FilterType.TERM_MATCH, Field, Value })),
        MaxResults: 20,
      }),
    );
    const usd = onDemandUsdPerHour(response.PriceList ?? []);
    if (usd !== undefined) entry(type).onDemand = { usdPerHour: usd, provenance: `AWS Price List API, ${options.region}` };
  }

  const latest = new Map<string, { price: number; time: number }>();
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const response = await ec2.send(
      new ec2Sdk.DescribeSpotPriceHistoryCommand({
        InstanceTypes: types as _InstanceType[],
        ProductDescriptions: ['Linux/UNIX'],
        StartTime: options.now ?? new Date(),
        NextToken: nextToken,
      }),
    );
    for (const item of response.SpotPriceHistory ?? []) {
      const price = Number(item.SpotPrice);
      if (!item.InstanceType || !item.AvailabilityZone || !Number.isFinite(price)) continue;
      const key = `${item.InstanceType} ${item.AvailabilityZone}`;
      const time = item.Timestamp?.getTime() ?? 0;
      const seen = latest.get(key);
      if (!seen || time > seen.time) latest.set(key, { price, time });
    }
    nextToken = response.NextToken || undefined;
  } while (nextToken && ++pages < 20);
  for (const type of types) {
    const prices = [...latest.entries()].filter(([key]) => key.startsWith(`${type} `)).map(([, v]) => v.price);
    if (prices.length === 0) continue;
    const mean = prices.reduce((s, p) => s + p, 0) / prices.length;
    entry(type).spot = {
      usdPerHour: Number(mean.toFixed(6)),
      provenance: `EC2 spot price history, mean of ${prices.length} AZs in ${options.region}`,
    };
  }
  return layer as Record<string, Partial<InstancePrices>>;
}

/**
 * The hourly on-demand price in a GetProducts price list: the `RunInstances` product's
 * OnDemand term, USD per `Hrs`.
 */
export function onDemandUsdPerHour(priceList: ReadonlyArray<unknown>): number | undefined {
  const products = priceList.map((item) => (typeof item === 'string' ? JSON.parse(item) : JSON.parse(String(item))) as PriceListProduct);
  const ordered = [...products].sort((a, b) => rank(a) - rank(b));
  for (const product of ordered) {
    for (const term of Object.values(product.terms?.OnDemand ?? {})) {
      for (const dimension of Object.values(term.priceDimensions ?? {})) {
        const usd = Number(dimension.pricePerUnit?.USD);
        if (dimension.unit === 'Hrs' && Number.isFinite(usd) && usd > 0) return usd;
      }
    }
  }
  return undefined;
}

interface PriceListProduct {
  readonly product?: { readonly attributes?: Record<string, string> };
  readonly terms?: {
    readonly OnDemand?: Record<
      string,
      { readonly priceDimensions?: Record<string, { readonly unit?: string; readonly pricePerUnit?: { readonly USD?: string } }> }
    >;
  };
}

function rank(product: PriceListProduct): number {
  return product.product?.attributes?.operation === 'RunInstances' ? 0 : 1;
}

/** A short reason for a failed AWS call, for the fallback warning. */
export function describeAwsError(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string };
  const name = e?.name ?? '';
  const message = (e?.message ?? String(error)).split('\n')[0];
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) return `no AWS credentials: ${message}`;
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(name)) return `throttled by AWS: ${name}`;
  if (['ENOTFOUND', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(e?.code ?? '') || name === 'TimeoutError') {
    return `network error: ${e.code ?? name} ${message}`.trim();
  }
  return `${name || 'error'}: ${message}`;
}
