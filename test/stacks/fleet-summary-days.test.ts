import { describe, expect, it } from 'vitest';
import { fleetSummaryRows } from '../../lib/stacks/fleet-summary';
import { rawFleet, testConfig } from '../support/stack-helpers';

const scheduleColumn = (days: unknown) =>
  fleetSummaryRows(testConfig([rawFleet({ schedule: { timeZone: 'UTC', windows: [{ days, start: '08:00', end: '18:00' }] } })]))[0][5];

describe('fleet summary schedule days', () => {
  it('lists two separate days by name', () => {
    expect(scheduleColumn(['mon', 'wed'])).toBe('mon,wed 08:00-18:00=2 UTC');
  });

  it('lists two consecutive days by name rather than as a range', () => {
    expect(scheduleColumn(['mon', 'tue'])).toBe('mon,tue 08:00-18:00=2 UTC');
  });

  it('writes three or more consecutive days as a range, and other days apart', () => {
    expect(scheduleColumn(['mon', 'tue', 'wed', 'fri'])).toBe('mon-wed,fri 08:00-18:00=2 UTC');
  });
});
