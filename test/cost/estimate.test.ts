import { describe, expect, it } from 'vitest';
import { loadFleetConfig } from '../../lib/config';
import { CostError } from '../../lib/cost/errors';
import {
  ARITHMETIC_GRAVITON_PERFORMANCE_FACTOR,
  estimateCost,
  estimateFleetCost,
  SEED_GRAVITON_PERFORMANCE_FACTOR,
} from '../../lib/cost/estimate';
import { snapshotPriceBook } from '../../lib/cost/price-book';
import { PRICE_SNAPSHOT } from '../../lib/cost/price-snapshot';
import { configWith, fleetWith, schedule } from './helpers';

const SEED_PRICES = snapshotPriceBook('us-east-1', { 'm6g.large': { spot: 0.0419 }, 'm5.xlarge': { onDemand: 0.192 } });
const usEast1 = PRICE_SNAPSHOT.regions['us-east-1'].instanceTypes;

describe('the seed scenario (examples/seed-comparison.yaml)', () => {
  const config = loadFleetConfig('examples/seed-comparison.yaml');
  const report = estimateCost(config, {
    prices: snapshotPriceBook('us-east-1', config.cost?.prices),
    baselineInstanceType: config.cost?.baselineInstanceType,
    gravitonPerformanceFactor: config.cost?.gravitonPerformanceFactor,
  });
  const [fleet] = report.fleets;

  it('runs 40 hours a week', () => expect(fleet.uptimeHoursPerWeek).toBe(40));

  it('costs $32.256 a week on the always-on m5.xlarge baseline', () => expect(fleet.baselineWeeklyCost).toBeCloseTo(32.256, 9));

  it('costs $1.07264 a week on m6g.large spot with the seed factor 0.64', () => expect(fleet.weeklyCost).toBeCloseTo(1.07264, 9));

  it('saves 96.67%', () => expect(fleet.savingsPercent).toBeCloseTo(96.67, 2));

  it('offers 600 runner-minutes per hour of uptime at concurrency 10', () => expect(fleet.runnerMinutesPerHour).toBe(600));

  it('costs $0.0447 per 1,000 job-minutes at full utilization', () => expect(fleet.costPer1000JobMinutes).toBeCloseTo(1.07264 / 24, 9));

  it('extrapolates a year as 52 weeks', () => {
    expect(report.total.yearlyCost).toBeCloseTo(55.77728, 6);
    expect(report.total.baselineYearlyCost).toBeCloseTo(1677.312, 6);
  });

  it('attributes $24.576 to the schedule, the first lever', () => expect(fleet.levers.schedule).toBeCloseTo(32.256 - 0.192 * 40, 9));
});

describe('the schedule alone', () => {
  const onDemandX86 = (hoursPerWeek: number) =>
    estimateFleetCost(fleetWith({ computeType: 'on-demand', architecture: 'x86_64', instanceTypes: ['m5.xlarge'] }), {
      prices: SEED_PRICES,
      hoursPerWeek,
    });

  it('saves 76.2% at 40 hours a week', () => expect(onDemandX86(40).savingsPercent.toFixed(1)).toBe('76.2'));

  it('saves 94.0% at 10 hours a week', () => expect(onDemandX86(10).savingsPercent.toFixed(1)).toBe('94.0'));

  it('is the only lever when the fleet is the baseline type on-demand', () => {
    const estimate = onDemandX86(40);
    expect(estimate.levers.spot).toBe(0);
    expect(estimate.levers.graviton).toBe(0);
    expect(estimate.levers.schedule).toBeCloseTo(estimate.weeklySavings, 9);
  });

  it('rejects --hours-per-week outside (0, 168]', () => {
    expect(() => estimateCost(configWith({}), { prices: SEED_PRICES, hoursPerWeek: 169 })).toThrow(
      /hoursPerWeek \(169\) must be > 0 and <= 168/,
    );
  });
});

describe('a spot fleet with an on-demand floor', () => {
  // 3 instances mon-fri 08:00-18:00 (50 h), 1 outside (118 h); the first 2 on-demand.
  const fleet = fleetWith({
    instanceTypes: ['m7g.large', 'm6g.large'],
    onDemandBase: 2,
    capacity: { min: 1, max: 5, desired: 3 },
    schedule: schedule('mon-fri', '08:00', '18:00'),
  });
  const estimate = estimateFleetCost(fleet, { prices: snapshotPriceBook('us-east-1') });

  it('runs min(desired, onDemandBase) instances on-demand: 2 x 50 h + 1 x 118 h', () =>
    expect(estimate.onDemandInstanceHoursPerWeek).toBe(218));

  it('runs the rest on spot: 1 x 50 h', () => expect(estimate.spotInstanceHoursPerWeek).toBe(50));

  it('prices on-demand hours at the first configured type and spot hours at the cheapest spot type', () => {
    expect(estimate.onDemandPrice).toMatchObject({ instanceType: 'm7g.large', usdPerHour: usEast1['m7g.large'].onDemand.usdPerHour });
    expect(estimate.spotPrice).toMatchObject({ instanceType: 'm7g.large', usdPerHour: usEast1['m7g.large'].spot.usdPerHour });
    expect(usEast1['m7g.large'].spot.usdPerHour).toBeLessThan(usEast1['m6g.large'].spot.usdPerHour);
  });

  it('costs on-demand hours at on-demand and spot hours at spot', () => {
    expect(estimate.weeklyCost).toBeCloseTo(218 * 0.0816 + 50 * usEast1['m7g.large'].spot.usdPerHour, 9);
  });

  it('compares with the peak capacity (3) of always-on baseline instances', () => {
    expect(estimate.peakInstances).toBe(3);
    expect(estimate.baselineWeeklyCost).toBeCloseTo(3 * 168 * 0.192, 9);
  });

  it('credits the spot lever only for the spot hours', () => {
    expect(estimate.levers.spot).toBeCloseTo(50 * (0.192 - usEast1['m5.xlarge'].spot.usdPerHour), 9);
  });
});

describe('lever attribution', () => {
  const config = configWith(
    {
      computeType: 'spot',
      instanceTypes: ['c7g.large', 'm6g.large'],
      onDemandBase: 1,
      capacity: { min: 0, max: 4, desired: 2 },
      schedule: schedule('mon-fri', '07:00', '19:00'),
    },
    { computeType: 'on-demand', architecture: 'x86_64', instanceTypes: ['m7i.xlarge'], capacity: { min: 1, max: 2, desired: 2 } },
  );
  const report = estimateCost(config, {
    prices: snapshotPriceBook('eu-central-1'),
    gravitonPerformanceFactor: ARITHMETIC_GRAVITON_PERFORMANCE_FACTOR,
  });

  it.each([0, 1])('sums to the total saving of fleet %i', (i) => {
    const { levers, weeklySavings } = report.fleets[i];
    expect(levers.schedule + levers.spot + levers.graviton).toBeCloseTo(weeklySavings, 9);
  });

  it('sums to the total saving across fleets', () => {
    const { levers, weeklySavings } = report.total;
    expect(levers.schedule + levers.spot + levers.graviton).toBeCloseTo(weeklySavings, 9);
  });

  it('shows a negative instance-type lever for an x86 fleet on a type dearer than the baseline', () => {
    expect(report.fleets[1].levers.graviton).toBeLessThan(0);
  });

  it('applies the Graviton factor to arm64 fleets only', () => {
    expect(report.fleets[0].performanceFactor).toBeCloseTo(1 / 1.36, 12);
    expect(report.fleets[1].performanceFactor).toBe(1);
  });
});

describe('defaults', () => {
  it('gives no Graviton performance credit unless asked', () => {
    const report = estimateCost(configWith({ schedule: schedule('mon-fri', '09:00', '17:00') }), { prices: SEED_PRICES });
    expect(report.gravitonPerformanceFactor).toBe(1);
    expect(report.fleets[0].weeklyCost).toBeCloseTo(0.0419 * 40, 9);
  });

  it('uses m5.xlarge as the baseline', () =>
    expect(estimateCost(configWith({}), { prices: SEED_PRICES }).baselineInstanceType).toBe('m5.xlarge'));

  it('keeps the seed factor available as a named constant', () => expect(SEED_GRAVITON_PERFORMANCE_FACTOR).toBe(0.64));

  it('counts an unscheduled fleet as always on at capacity.desired', () => {
    const estimate = estimateFleetCost(fleetWith({ capacity: { min: 0, max: 4, desired: 2 } }), { prices: SEED_PRICES });
    expect(estimate.instanceHoursPerWeek).toBe(336);
    expect(estimate.levers.schedule).toBe(0);
  });

  it('counts the name-derived jitter the stacks deploy', () => {
    const fleet = fleetWith({
      name: 'graviton-spot',
      schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
    });
    const jitter = fleet.schedule?.jitterMinutes ?? 0;
    expect(jitter).toBeGreaterThan(0);
    expect(estimateFleetCost(fleet, { prices: SEED_PRICES }).uptimeHoursPerWeek).toBeCloseTo(50 + (5 * 2 * jitter) / 60, 9);
  });

  it('makes monthly cost weekly x 52/12', () => {
    const estimate = estimateFleetCost(fleetWith({}), { prices: SEED_PRICES });
    expect(estimate.monthlyCost).toBeCloseTo((estimate.weeklyCost * 52) / 12, 9);
  });
});

describe('prices that are missing', () => {
  it('names the type, the region and the ways to supply a price for an unknown type', () => {
    const fleet = fleetWith({ instanceTypes: ['m9g.large'] });
    expect(() => estimateFleetCost(fleet, { prices: snapshotPriceBook('us-east-1') })).toThrow(CostError);
    expect(() => estimateFleetCost(fleet, { prices: snapshotPriceBook('us-east-1') })).toThrow(
      'no spot price for m9g.large in us-east-1 (snapshot prices, 2026-01-01); add it to the config as cost.prices["m9g.large"].spot or pass --price m9g.large:spot=<USD per hour>',
    );
  });

  it('accepts a type the snapshot lacks when the user prices it', () => {
    const fleet = fleetWith({ instanceTypes: ['m9g.large'] });
    expect(
      estimateFleetCost(fleet, { prices: snapshotPriceBook('us-east-1', { 'm9g.large': { spot: 0.05 } }) }).spotPrice?.usdPerHour,
    ).toBe(0.05);
  });

  it('rejects a region without a snapshot, listing the regions it has', () => {
    expect(() => snapshotPriceBook('ap-south-1')).toThrow(
      'no price snapshot for region "ap-south-1"; snapshot regions: us-east-1, us-west-2, eu-west-1, eu-central-1. Use --live to fetch its prices from AWS',
    );
  });
});
