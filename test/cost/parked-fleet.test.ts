import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../lib/cost/estimate';
import { snapshotPriceBook } from '../../lib/cost/price-book';
import { rawFleet, testConfig } from '../support/stack-helpers';

const prices = snapshotPriceBook('us-east-1');

describe('cost estimate of a fleet that can never have an instance (issue 14, defect 2)', () => {
  it('warns, naming the fleet, when every window asks for 0', () => {
    // GIVEN a fleet whose only window has desired 0
    const config = testConfig([
      rawFleet({
        name: 'parked',
        capacity: { min: 0, max: 2, desired: 1 },
        schedule: { timeZone: 'UTC', windows: [{ days: 'daily', start: '00:00', end: '24:00', desired: 0 }] },
      }),
    ]);
    // WHEN it is estimated
    const report = estimateCost(config, { prices });
    // THEN the report carries the warning and bills nothing
    expect(report.warnings).toEqual([expect.stringMatching(/^fleet parked can never have an instance: /)]);
    expect(report.fleets[0].weeklyCost).toBe(0);
  });

  it('has no such warning for a fleet that runs', () => {
    expect(estimateCost(testConfig(), { prices }).warnings).toEqual([]);
  });
});
