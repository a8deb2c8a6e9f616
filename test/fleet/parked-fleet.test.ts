import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { buildFleet } from '../support/stack-helpers';

const NEVER_RUNS = Match.stringLikeRegexp('can never have an instance');

describe('RunnerFleet that can never have an instance (issue 14, defect 2)', () => {
  it('warns at synth when a schedule window asks for 0 and capacity.min is 0', () => {
    // GIVEN a window with desired 0 and nothing outside it
    const { stack } = buildFleet({
      capacity: { min: 0, max: 2, desired: 1 },
      schedule: { timeZone: 'UTC', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00', desired: 0 }] },
    });
    // THEN synth carries a warning on the fleet
    Annotations.fromStack(stack).hasWarning('/TestStack/Fleet', Match.stringLikeRegexp("every schedule window's desired are 0"));
  });

  it('warns at synth when an unscheduled fleet has capacity.desired 0', () => {
    const { stack } = buildFleet({ capacity: { min: 0, max: 2, desired: 0 } });
    Annotations.fromStack(stack).hasWarning('/TestStack/Fleet', Match.stringLikeRegexp('capacity.desired is 0 and it has no schedule'));
  });

  it('does not warn for a fleet that runs in some window', () => {
    const { stack } = buildFleet({
      capacity: { min: 0, max: 2, desired: 1 },
      schedule: { timeZone: 'UTC', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
    });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Fleet', NEVER_RUNS);
  });
});
