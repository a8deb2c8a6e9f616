/**
 * The schedule catch-up's decision core with an injected clock: the sizes of the scheduled
 * change in force at an instant, in the fleet's time zone, jitter and daylight saving included.
 * Properties are built the way the construct builds them, from the fleet's scheduled sizes.
 */
import { describe, expect, it } from 'vitest';
import { catchUpChangeProperties, planCatchUp, type CatchUpProperties } from '../../lib/lambda/schedule-catch-up/core';
import { scheduledGroupSizes } from '../../lib/scaling/scheduled-sizes';
import { fleetSpec } from '../support/stack-helpers';

const GROUP = 'gitlab-runner-fleet-office';
const OFFICE_HOURS = { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] };

function propertiesOf(raw: Record<string, unknown>): CatchUpProperties {
  const fleet = fleetSpec({ name: 'office', ...raw });
  return {
    AutoScalingGroupName: GROUP,
    TimeZone: fleet.schedule?.timeZone ?? '',
    MaxSize: String(fleet.capacity.max),
    DemandScaled: String(fleet.demandScaling !== undefined),
    Changes: catchUpChangeProperties(scheduledGroupSizes(fleet)),
  };
}

/** Office hours without jitter: 08:00-18:00 Berlin at 3, 1 otherwise. */
const OFFICE = propertiesOf({ capacity: { min: 1, max: 5, desired: 3 }, schedule: { ...OFFICE_HOURS, maxJitterMinutes: 0 } });

/** Wednesday 2026-12-02, Berlin is UTC+1 in winter. */
const wednesdayBerlin = (hour: number, minute = 0) => Date.UTC(2026, 11, 2, hour - 1, minute);

describe('schedule catch-up core: the change in force now', () => {
  it('gives the window capacity in the middle of a window', () => {
    // GIVEN office hours at 3 WHEN deployed on Wednesday 10:30 Berlin
    const plan = planCatchUp('Create', OFFICE, wednesdayBerlin(10, 30));
    // THEN the group gets min and desired 3, as the 08:00 action set them
    expect(plan).toMatchObject({ kind: 'apply', groupName: GROUP, minSize: 3, desiredCapacity: 3, localTime: 'wed 10:30' });
    expect(plan).toMatchObject({ changeInForce: 'mon,tue,wed,thu,fri 08:00' });
  });

  it('gives the lowest capacity outside every window', () => {
    expect(planCatchUp('Create', OFFICE, wednesdayBerlin(20, 0))).toMatchObject({ kind: 'apply', minSize: 1, desiredCapacity: 1 });
  });

  it('carries the weekend over from Friday evening to Monday morning (wrapping the week)', () => {
    // GIVEN Monday 02:00 Berlin, before the week's first change THEN Friday 18:00's change is in force
    const mondayNight = Date.UTC(2026, 10, 30, 1, 0);
    expect(planCatchUp('Update', OFFICE, mondayNight)).toMatchObject({ minSize: 1, desiredCapacity: 1, localTime: 'mon 02:00' });
  });

  it('follows the wall clock of the time zone across daylight saving time', () => {
    // GIVEN the same UTC time of day, 06:30, before and after Berlin moved to summer time (2026-03-29)
    const fridayBeforeDst = Date.UTC(2026, 2, 27, 6, 30); // 07:30 CET: before the window
    const mondayAfterDst = Date.UTC(2026, 2, 30, 6, 30); // 08:30 CEST: inside it
    // THEN the answer follows the local time, as the scheduled actions' TimeZone does
    expect(planCatchUp('Create', OFFICE, fridayBeforeDst)).toMatchObject({ desiredCapacity: 1, localTime: 'fri 07:30' });
    expect(planCatchUp('Create', OFFICE, mondayAfterDst)).toMatchObject({ desiredCapacity: 3, localTime: 'mon 08:30' });
  });

  it('switches at the jittered minute, not the round one', () => {
    // GIVEN a fleet whose window opens and closes a few minutes early and late by its jitter
    const props = propertiesOf({ capacity: { min: 0, max: 5, desired: 2 }, schedule: { ...OFFICE_HOURS, maxJitterMinutes: 9 } });
    const jitter = fleetSpec({ name: 'office', schedule: OFFICE_HOURS }).schedule!.jitterMinutes;
    expect(jitter).toBeGreaterThan(0);
    const opens = wednesdayBerlin(8, 0) - jitter * 60_000;
    const closes = wednesdayBerlin(18, 0) + jitter * 60_000;
    // THEN the last minute before the jittered start is still the floor, the start minute is the window
    expect(planCatchUp('Create', props, opens - 1)).toMatchObject({ desiredCapacity: 0 });
    expect(planCatchUp('Create', props, opens)).toMatchObject({ desiredCapacity: 2 });
    expect(planCatchUp('Create', props, closes - 1)).toMatchObject({ desiredCapacity: 2 });
    expect(planCatchUp('Create', props, closes)).toMatchObject({ desiredCapacity: 0 });
  });

  it('uses each window its own capacity', () => {
    const props = propertiesOf({
      capacity: { min: 0, max: 6, desired: 4 },
      schedule: {
        timeZone: 'UTC',
        maxJitterMinutes: 0,
        windows: [
          { days: 'mon-fri', start: '08:00', end: '18:00' },
          { days: 'sat', start: '10:00', end: '14:00', desired: 1 },
        ],
      },
    });
    const saturdayNoon = Date.UTC(2026, 11, 5, 12, 0);
    expect(planCatchUp('Create', props, saturdayNoon)).toMatchObject({ minSize: 1, desiredCapacity: 1 });
  });

  it('applies nothing for a constant week: the template holds its capacity', () => {
    // GIVEN a schedule covering the whole week (no scheduled change)
    const props = propertiesOf({ schedule: { timeZone: 'UTC', windows: [{ days: 'daily', start: '00:00', end: '24:00' }] } });
    expect(props.Changes).toEqual([]);
    // THEN the plan is to skip, with the reason
    expect(planCatchUp('Create', props, wednesdayBerlin(10))).toEqual({
      kind: 'skip',
      reason: expect.stringContaining('no scheduled change'),
    });
  });

  it('does nothing on Delete', () => {
    expect(planCatchUp('Delete', OFFICE, wednesdayBerlin(10))).toMatchObject({ kind: 'skip' });
  });
});

describe('schedule catch-up core: demand-scaled fleets', () => {
  it("applies the demand envelope's floor and leaves desired capacity to the scaler", () => {
    // GIVEN a demand-scaled fleet with a window of 3 and one warm instance
    const props = propertiesOf({
      capacity: { min: 0, max: 6, desired: 3 },
      schedule: { ...OFFICE_HOURS, maxJitterMinutes: 0 },
      demandScaling: { warmInstances: 1 },
    });
    expect(props.DemandScaled).toBe('true');
    // WHEN caught up in the window THEN min is the envelope's floor (1) and desired is not set
    const plan = planCatchUp('Create', props, wednesdayBerlin(10));
    expect(plan).toMatchObject({ kind: 'apply', minSize: 1 });
    expect(plan).not.toHaveProperty('desiredCapacity');
  });
});

describe('schedule catch-up core: odd properties never throw', () => {
  const now = wednesdayBerlin(10);

  it.each<[string, unknown, string]>([
    ['no properties', undefined, 'AutoScalingGroupName is missing'],
    ['no group name', { ...OFFICE, AutoScalingGroupName: '' }, 'AutoScalingGroupName is missing'],
    ['an unknown time zone', { ...OFFICE, TimeZone: 'Mars/Olympus' }, 'Mars/Olympus'],
    ['no time zone', { ...OFFICE, TimeZone: undefined }, 'TimeZone'],
    ['changes that are not a list', { ...OFFICE, Changes: 'soon' }, 'no scheduled change'],
    [
      'only malformed changes',
      {
        ...OFFICE,
        Changes: [
          null,
          { Days: 'someday', At: '08:00', MinSize: '1', DesiredCapacity: '1' },
          { Days: 'mon', At: '25:00', MinSize: '1', DesiredCapacity: '1' },
          { Days: 'mon', At: '08:00', MinSize: '-1', DesiredCapacity: '1' },
          { Days: 'mon', At: '08:00', MinSize: '1', DesiredCapacity: 'x' },
          { Days: '', At: '08:00', MinSize: '1', DesiredCapacity: '1' },
        ],
      },
      'no scheduled change',
    ],
  ])('skips with %s', (_case, properties, reason) => {
    const plan = planCatchUp('Create', properties, now);
    expect(plan.kind).toBe('skip');
    expect(plan.kind === 'skip' && plan.reason).toContain(reason);
  });

  it('applies the readable changes and leaves out a malformed one', () => {
    const props = { ...OFFICE, Changes: [...OFFICE.Changes, { Days: 'wed', At: 'noon', MinSize: '9', DesiredCapacity: '9' }] };
    expect(planCatchUp('Create', props, now)).toMatchObject({ minSize: 3, desiredCapacity: 3 });
  });

  it('never sets more than the group max', () => {
    const props = { ...OFFICE, MaxSize: '2' };
    expect(planCatchUp('Create', props, now)).toMatchObject({ minSize: 2, desiredCapacity: 2 });
  });

  it('takes numbers as CloudFormation may pass them', () => {
    const props = { ...OFFICE, MaxSize: 5, Changes: OFFICE.Changes.map((c) => ({ ...c, MinSize: Number(c.MinSize) })) };
    expect(planCatchUp('Create', props, now)).toMatchObject({ minSize: 3, desiredCapacity: 3 });
  });
});
