import { describe, expect, it } from 'vitest';
import { jitterMinutes } from '../../lib/config';
import { buildFleet, resourcesOfType } from '../support/stack-helpers';

const ACTION = 'AWS::AutoScaling::ScheduledAction';
const OFFICE_HOURS = { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] };

describe('RunnerFleet scheduled scaling', () => {
  it('creates no scheduled actions for a fleet without a schedule', () => {
    buildFleet().template.resourceCountIs(ACTION, 0);
  });

  it('creates one action per capacity change: up in the morning, down in the evening', () => {
    buildFleet({ schedule: OFFICE_HOURS }).template.resourceCountIs(ACTION, 2);
  });

  it('runs the actions in the fleet time zone', () => {
    const actions = Object.values(resourcesOfType(buildFleet({ schedule: OFFICE_HOURS }).template, ACTION));
    expect(actions.map((a) => a.Properties.TimeZone)).toEqual(['Europe/Berlin', 'Europe/Berlin']);
  });

  it('starts the window early and ends it late by the jitter derived from the fleet name', () => {
    // GIVEN the fleet's fixed jitter
    const jitter = jitterMinutes('jitter-fleet', 9);
    expect(jitter).toBeGreaterThan(0);
    // WHEN the fleet is built THEN the crons are shifted off the round hour by it
    const { template } = buildFleet({ name: 'jitter-fleet', schedule: OFFICE_HOURS, capacity: { min: 0, max: 5, desired: 3 } });
    template.hasResourceProperties(ACTION, { Recurrence: `${60 - jitter} 7 * * 1-5`, DesiredCapacity: 3, MinSize: 3 });
    template.hasResourceProperties(ACTION, { Recurrence: `${jitter} 18 * * 1-5`, DesiredCapacity: 0, MinSize: 0 });
  });

  it('uses no jitter when maxJitterMinutes is 0', () => {
    const { template } = buildFleet({ schedule: { ...OFFICE_HOURS, maxJitterMinutes: 0 } });
    template.hasResourceProperties(ACTION, { Recurrence: '0 8 * * 1-5' });
    template.hasResourceProperties(ACTION, { Recurrence: '0 18 * * 1-5' });
  });

  it('scales to capacity.min outside the windows', () => {
    const { template } = buildFleet({ schedule: { ...OFFICE_HOURS, maxJitterMinutes: 0 }, capacity: { min: 1, max: 5, desired: 3 } });
    template.hasResourceProperties(ACTION, { Recurrence: '0 18 * * 1-5', DesiredCapacity: 1, MinSize: 1 });
  });

  it('uses a window own desired capacity', () => {
    const { template } = buildFleet({
      schedule: { timeZone: 'UTC', maxJitterMinutes: 0, windows: [{ days: 'sat', start: '02:00', end: '04:00', desired: 1 }] },
    });
    template.hasResourceProperties(ACTION, { Recurrence: '0 2 * * 6', DesiredCapacity: 1 });
  });

  it('names the actions after the change, so logical ids survive a resynth', () => {
    const ids = Object.keys(resourcesOfType(buildFleet({ name: 'ids', schedule: OFFICE_HOURS }).template, ACTION));
    expect(ids.every((id) => /Schedulescaleto\d+at\d{4}monfri/.test(id))).toBe(true);
  });
});
