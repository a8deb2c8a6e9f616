import { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeAwsError, livePriceBook, onDemandUsdPerHour } from '../../lib/cost/live-prices';

const pricingMock = mockClient(PricingClient);
const ec2Mock = mockClient(EC2Client);
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' };
const clients = () => ({
  pricingClient: new PricingClient({ region: 'us-east-1', credentials }),
  ec2Client: new EC2Client({ region: 'eu-central-1', credentials }),
});
const NOW = new Date('2026-11-25T12:00:00Z');

/** A GetProducts price list entry as the Price List API returns it (a JSON string). */
function product(instanceType: string, usd: string, operation = 'RunInstances'): string {
  return JSON.stringify({
    product: { attributes: { instanceType, operation, regionCode: 'eu-central-1' } },
    terms: {
      OnDemand: { 'SKU.JRTCKXETXF': { priceDimensions: { 'SKU.JRTCKXETXF.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: usd } } } } },
    },
  });
}

/** A DescribeSpotPriceHistory entry for m7g.large, Linux/UNIX, an hour before NOW. */
function spot(availabilityZone: string, price: string) {
  return {
    InstanceType: 'm7g.large' as const,
    AvailabilityZone: availabilityZone,
    SpotPrice: price,
    Timestamp: new Date('2026-11-25T11:00:00Z'),
  };
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

afterEach(() => {
  pricingMock.reset();
  ec2Mock.reset();
});

describe('live prices', () => {
  it('reads on-demand from GetProducts with the Linux, shared, no-software, used-capacity filters', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [product('m7g.large', '0.0920000000')] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] });
    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.price('m7g.large', 'onDemand')).toEqual({ usdPerHour: 0.092, provenance: 'AWS Price List API, eu-central-1' });
    const filters = pricingMock.commandCalls(GetProductsCommand)[0].args[0].input.Filters;
    expect(filters?.map((f) => [f.Field, f.Value, f.Type])).toEqual([
      ['instanceType', 'm7g.large', 'TERM_MATCH'],
      ['regionCode', 'eu-central-1', 'TERM_MATCH'],
      ['operatingSystem', 'Linux', 'TERM_MATCH'],
      ['tenancy', 'Shared', 'TERM_MATCH'],
      ['preInstalledSw', 'NA', 'TERM_MATCH'],
      ['capacitystatus', 'Used', 'TERM_MATCH'],
    ]);
    expect(pricingMock.commandCalls(GetProductsCommand)[0].args[0].input.ServiceCode).toBe('AmazonEC2');
  });

  it('takes spot as the mean of the latest Linux/UNIX price in each AZ', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({
      SpotPriceHistory: [
        { InstanceType: 'm7g.large', AvailabilityZone: 'eu-central-1a', SpotPrice: '0.0300', Timestamp: new Date('2026-11-25T11:00:00Z') },
        { InstanceType: 'm7g.large', AvailabilityZone: 'eu-central-1a', SpotPrice: '0.0500', Timestamp: new Date('2026-11-25T09:00:00Z') },
        { InstanceType: 'm7g.large', AvailabilityZone: 'eu-central-1b', SpotPrice: '0.0340', Timestamp: new Date('2026-11-25T10:00:00Z') },
      ],
    });
    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.price('m7g.large', 'spot').usdPerHour).toBeCloseTo(0.032, 9);
    expect(ec2Mock.commandCalls(DescribeSpotPriceHistoryCommand)[0].args[0].input).toMatchObject({
      InstanceTypes: ['m7g.large'],
      ProductDescriptions: ['Linux/UNIX'],
    });
  });

  it('labels the source live, dated the day of the fetch', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [product('m7g.large', '0.0920000000')] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({});
    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.source).toMatchObject({ kind: 'live', date: '2026-11-25', region: 'eu-central-1' });
  });

  it('fills a price AWS did not return from the snapshot, with a warning', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [product('m7g.large', '0.0920000000')] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] });
    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.price('m7g.large', 'spot').provenance).toMatch(/Spot Instance Advisor/);
    expect(book.warnings).toEqual(["no live spot price for m7g.large in eu-central-1; using the snapshot's"]);
  });

  it('falls back to the snapshot with a warning when AWS throttles', async () => {
    pricingMock.on(GetProductsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.source.kind).toBe('snapshot');
    expect(book.warnings).toEqual([
      'live prices unavailable (throttled by AWS: ThrottlingException); using the price snapshot of 2026-01-01 instead',
    ]);
    expect(book.price('m7g.large', 'onDemand').usdPerHour).toBeGreaterThan(0);
  });

  it('falls back to the snapshot with a warning when there are no credentials', async () => {
    pricingMock.on(GetProductsCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const book = await livePriceBook({ region: 'us-east-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.source.kind).toBe('snapshot');
    expect(book.warnings[0]).toBe(
      'live prices unavailable (no AWS credentials: Could not load credentials from any providers); using the price snapshot of 2026-01-01 instead',
    );
  });

  it('falls back when the spot call fails after the price list succeeded', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [product('m7g.large', '0.0920000000')] });
    ec2Mock
      .on(DescribeSpotPriceHistoryCommand)
      .rejects(Object.assign(new Error('getaddrinfo ENOTFOUND ec2.eu-central-1.amazonaws.com'), { code: 'ENOTFOUND' }));
    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });
    expect(book.source.kind).toBe('snapshot');
    expect(book.warnings[0]).toMatch(/^live prices unavailable \(network error: ENOTFOUND/);
  });

  it('keeps user overrides above live prices', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [product('m7g.large', '0.0920000000')] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({});
    const book = await livePriceBook({
      region: 'eu-central-1',
      instanceTypes: ['m7g.large'],
      overrides: { 'm7g.large': { onDemand: 0.05 } },
      now: NOW,
      ...clients(),
    });
    expect(book.price('m7g.large', 'onDemand').usdPerHour).toBe(0.05);
  });

  it('fails clearly when live prices fail for a region without a snapshot', async () => {
    pricingMock.on(GetProductsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(livePriceBook({ region: 'ap-south-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() })).rejects.toThrow(
      'live prices unavailable (throttled by AWS: ThrottlingException), and there is no price snapshot for region "ap-south-1"',
    );
  });
});

describe('live prices, odd answers from AWS', () => {
  it('reads every page of spot price history', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock
      .on(DescribeSpotPriceHistoryCommand)
      .resolvesOnce({ SpotPriceHistory: [spot('eu-central-1a', '0.0300')], NextToken: 'page-2' })
      .resolvesOnce({ SpotPriceHistory: [spot('eu-central-1b', '0.0400')], NextToken: '' });

    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });

    expect(ec2Mock.commandCalls(DescribeSpotPriceHistoryCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(book.price('m7g.large', 'spot')).toEqual({
      usdPerHour: 0.035,
      provenance: 'EC2 spot price history, mean of 2 AZs in eu-central-1',
    });
  });

  it('stops after 20 pages of spot history when AWS keeps returning a next token', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [spot('eu-central-1a', '0.0300')], NextToken: 'again' });

    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });

    expect(ec2Mock.commandCalls(DescribeSpotPriceHistoryCommand)).toHaveLength(20);
    expect(book.price('m7g.large', 'spot').usdPerHour).toBe(0.03);
  });

  it('ignores spot history entries without a type, an AZ or a numeric price', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({
      SpotPriceHistory: [
        { AvailabilityZone: 'eu-central-1a', SpotPrice: '0.0100' },
        { InstanceType: 'm7g.large', SpotPrice: '0.0100' },
        { InstanceType: 'm7g.large', AvailabilityZone: 'eu-central-1b', SpotPrice: 'n/a' },
        { InstanceType: 'm7g.large', AvailabilityZone: 'eu-central-1c', SpotPrice: '0.0420' },
      ],
    });

    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });

    expect(book.price('m7g.large', 'spot')).toEqual({
      usdPerHour: 0.042,
      provenance: 'EC2 spot price history, mean of 1 AZs in eu-central-1',
    });
  });

  it('takes a timestamped spot price over an untimestamped one in the same AZ', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({
      SpotPriceHistory: [
        { InstanceType: 'm7g.large', AvailabilityZone: 'eu-central-1a', SpotPrice: '0.0900' },
        spot('eu-central-1a', '0.0300'),
      ],
    });

    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });

    expect(book.price('m7g.large', 'spot').usdPerHour).toBe(0.03);
  });

  it('fills on-demand from the snapshot, with a warning, when GetProducts returns no price list at all', async () => {
    pricingMock.on(GetProductsCommand).resolves({});
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [spot('eu-central-1a', '0.0300')] });

    const book = await livePriceBook({ region: 'eu-central-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });

    expect(book.warnings).toEqual(["no live on-demand price for m7g.large in eu-central-1; using the snapshot's"]);
  });

  it('prices a region without a snapshot from AWS alone, and says no gaps were filled', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [product('m7g.large', '0.1000000000')] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [spot('ap-south-1a', '0.0300')] });

    const book = await livePriceBook({ region: 'ap-south-1', instanceTypes: ['m7g.large'], now: NOW, ...clients() });

    expect(book.price('m7g.large', 'onDemand').usdPerHour).toBe(0.1);
    expect(book.source.description).not.toContain('gaps filled');
    expect(book.warnings).toEqual([]);
  });

  it('does not warn about a missing live price that the user overrides', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({});

    const book = await livePriceBook({
      region: 'eu-central-1',
      instanceTypes: ['m7g.large'],
      overrides: { 'm7g.large': { onDemand: 0.05, spot: 0.02 } },
      now: NOW,
      ...clients(),
    });

    expect(book.warnings).toEqual([]);
  });
});

describe('reading a price list', () => {
  it('prefers the RunInstances product', () => {
    expect(onDemandUsdPerHour([product('m7g.large', '0.5000000000', 'RunInstances:0010'), product('m7g.large', '0.0816000000')])).toBe(
      0.0816,
    );
  });

  it('returns nothing for an empty list', () => expect(onDemandUsdPerHour([])).toBeUndefined());

  it('reads an entry that is a lazily parsed JSON object rather than a string', () => {
    expect(onDemandUsdPerHour([{ toString: () => product('m7g.large', '0.0816000000') }])).toBe(0.0816);
  });

  it('skips products without on-demand terms or price dimensions, and non-hourly or zero prices', () => {
    const noTerms = JSON.stringify({ product: { attributes: { operation: 'RunInstances' } } });
    const noDimensions = JSON.stringify({ terms: { OnDemand: { a: {} } } });
    const perGb = JSON.stringify({ terms: { OnDemand: { a: { priceDimensions: { d: { unit: 'GB', pricePerUnit: { USD: '0.1' } } } } } } });
    const free = JSON.stringify({ terms: { OnDemand: { a: { priceDimensions: { d: { unit: 'Hrs', pricePerUnit: { USD: '0' } } } } } } });
    const noPrice = JSON.stringify({ terms: { OnDemand: { a: { priceDimensions: { d: { unit: 'Hrs' } } } } } });

    expect(onDemandUsdPerHour([noTerms, noDimensions, perGb, free, noPrice])).toBeUndefined();
  });
});

describe('AWS error reasons', () => {
  it.each([
    [awsError('TooManyRequestsException', 'slow down'), 'throttled by AWS: TooManyRequestsException'],
    [awsError('AccessDeniedException', 'not allowed\nmore'), 'AccessDeniedException: not allowed'],
    [awsError('TimeoutError', 'timed out'), 'network error: TimeoutError timed out'],
    [Object.assign(new Error('socket closed'), { name: '' }), 'error: socket closed'],
    ['socket hang up', 'error: socket hang up'],
    [undefined, 'error: undefined'],
  ])('describes %s', (error, reason) => expect(describeAwsError(error)).toBe(reason));
});
