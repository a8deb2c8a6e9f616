import { describe, expect, it } from 'vitest';
import { PRICE_SNAPSHOT } from '../../lib/cost/price-snapshot';

const FAMILIES = ['m5', 'm6i', 'm7i', 'c5', 'm6g', 'm7g', 'm8g', 'c6g', 'c7g', 'c8g', 't4g', 'r6g', 'r7g'];
const REQUIRED_TYPES = FAMILIES.flatMap((family) => [`${family}.large`, `${family}.xlarge`]);
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1'];
const usEast1 = PRICE_SNAPSHOT.regions['us-east-1'].instanceTypes;

describe('the price snapshot', () => {
  it('is dated YYYY-MM-DD', () => expect(PRICE_SNAPSHOT.date).toMatch(/^\d{4}-\d{2}-\d{2}$/));

  it.each(REGIONS)('prices every required type in %s, on-demand and spot', (region) => {
    const types = PRICE_SNAPSHOT.regions[region].instanceTypes;
    for (const type of REQUIRED_TYPES) {
      expect(types[type]?.onDemand.usdPerHour, `${region} ${type} on-demand`).toBeGreaterThan(0);
      expect(types[type]?.spot.usdPerHour, `${region} ${type} spot`).toBeGreaterThan(0);
    }
  });

  it('says where every figure came from', () => {
    for (const region of Object.values(PRICE_SNAPSHOT.regions)) {
      expect(region.basis.length).toBeGreaterThan(10);
      for (const prices of Object.values(region.instanceTypes)) {
        expect(prices.onDemand.provenance.length).toBeGreaterThan(10);
        expect(prices.spot.provenance.length).toBeGreaterThan(10);
      }
    }
  });

  it('prices spot below on-demand everywhere', () => {
    for (const region of Object.values(PRICE_SNAPSHOT.regions)) {
      for (const [type, prices] of Object.entries(region.instanceTypes))
        expect(prices.spot.usdPerHour, type).toBeLessThan(prices.onDemand.usdPerHour);
    }
  });

  it.each([
    ['m5.large', 0.096],
    ['m5.xlarge', 0.192],
    ['m6i.large', 0.096],
    ['m7i.large', 0.1008],
    ['c5.large', 0.085],
    ['m6g.large', 0.077],
    ['m7g.large', 0.0816],
    ['m8g.large', 0.08976],
    ['c6g.large', 0.068],
    ['c7g.large', 0.0725],
    ['c8g.large', 0.07976],
    ['t4g.large', 0.0672],
  ])('keeps the recorded us-east-1 on-demand price of %s ($%s)', (type, price) => {
    expect(usEast1[type].onDemand).toEqual({
      usdPerHour: price,
      provenance: 'AWS EC2 on-demand list price, us-east-1, Linux, recorded 2026-01',
    });
  });

  it('derives xlarge as twice large and says so', () => {
    expect(usEast1['m7g.xlarge'].onDemand.usdPerHour).toBeCloseTo(2 * 0.0816, 12);
    expect(usEast1['m7g.xlarge'].onDemand.provenance).toMatch(/^2 x m7g\.large .*AWS prices sizes linearly within a family$/);
  });

  it('derives spot from the recorded Spot Advisor saving (m6g: 60%)', () => {
    expect(usEast1['m6g.large'].spot.usdPerHour).toBeCloseTo(0.0308, 12);
    expect(usEast1['m6g.large'].spot.provenance).toMatch(/Spot Instance Advisor average saving 60%/);
  });

  it('labels an assumed spot saving as an assumption', () =>
    expect(usEast1['m5.large'].spot.provenance).toMatch(/^on-demand x \(1 - 0.5\): assumed 50% saving/));

  it('carries the hosted CI list prices with their dates', () => {
    expect(PRICE_SNAPSHOT.hostedCi.map((h) => [h.id, h.usdPer1000Minutes, h.date])).toEqual([
      ['gitlab-com', 10, '2026-01-01'],
      ['github-x64', 6, '2026-01-01'],
      ['github-arm64', 5, '2026-01-01'],
    ]);
  });
});
