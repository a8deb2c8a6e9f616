import { describe, expect, it } from 'vitest';
import { fleetSummaryRows, formatFleetSummary } from '../../lib/stacks/fleet-summary';
import { rawFleet, testConfig } from '../support/stack-helpers';

describe('fleet summary', () => {
  it('shows one row per fleet with compute type, arch, types, capacity, schedule, stack and the runner tags to set in GitLab', () => {
    const config = testConfig([
      rawFleet({
        name: 'spotty',
        onDemandBase: 1,
        schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
      }),
    ]);
    expect(fleetSummaryRows(config)).toEqual([
      [
        'spotty',
        'spot (+1 on-demand)',
        'arm64',
        'm7g.large,m6g.large',
        '0..4',
        'mon-fri 08:00-18:00=2 Europe/Berlin',
        'gitlab-runner-fleet-spotty',
        'computetype-spot,arm64',
      ],
    ]);
  });

  it('shows the group as deployed: a schedule covering the whole week at 2 raises its floor to 2 (issue 14)', () => {
    const config = testConfig([
      rawFleet({
        capacity: { min: 0, max: 4, desired: 2 },
        schedule: { timeZone: 'UTC', windows: [{ days: 'daily', start: '00:00', end: '24:00' }] },
      }),
    ]);
    expect(fleetSummaryRows(config)[0].slice(4, 6)).toEqual(['2..4', 'mon-sun 00:00-24:00=2 UTC']);
  });

  it('says always on for a fleet without a schedule', () => {
    expect(fleetSummaryRows(testConfig([rawFleet({ computeType: 'on-demand' })]))[0][5]).toBe('always on (2)');
  });

  it('aligns columns under a header', () => {
    const lines = formatFleetSummary(testConfig([rawFleet({ name: 'ab' }), rawFleet({ name: 'longer-name' })]))
      .trimEnd()
      .split('\n');
    expect(lines[0]).toMatch(/^fleet\s+compute\s+arch/);
    expect(lines.map((l) => l.indexOf('spot'))).toEqual([-1, lines[1].indexOf('spot'), lines[1].indexOf('spot')]);
  });
});
