/**
 * Property: for random schedules, the capacity the template gives the group (its initial size
 * plus the scheduled actions) is the schedule's capacity at every minute of the week, and the
 * cost model counts the same instance-hours. Schedules come from a seeded generator, so a
 * failure names a seed that reproduces it.
 */
import { describe, expect, it } from 'vitest';
import {
  desiredAt,
  fleetCapacityProfile,
  localMinuteOfWeek,
  MINUTES_PER_WEEK,
  overlappingWindows,
  parseDays,
  type Weekday,
} from '../../lib/config';
import { planCatchUp } from '../../lib/lambda/schedule-catch-up/core';
import { estimateCost } from '../../lib/cost/estimate';
import { snapshotPriceBook } from '../../lib/cost/price-book';
import { TYPICAL_WEEK } from '../../lib/cost/week-hours';
import { buildFleet, fleetSpec, resourcesOfType } from '../support/stack-helpers';

const ASG = 'AWS::AutoScaling::AutoScalingGroup';
const ACTION = 'AWS::AutoScaling::ScheduledAction';
const CATCH_UP = 'Custom::FleetScheduleCatchUp';
const CATCH_UP_TOKEN = 'arn:aws:lambda:eu-central-1:123456789012:function:gitlab-runner-fleet-schedule-catch-up';
/** Zones with and without daylight saving time, north and south, and with a half-hour offset. */
const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'];
const DAY_EXPRESSIONS = ['daily', 'weekdays', 'weekends', 'mon-fri', 'mon', 'tue,thu', 'sat', 'sun', 'wed-sat'];

/** mulberry32: a small seeded generator, so every case is reproducible from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RawWindow {
  days: string;
  start: string;
  end: string;
  desired?: number;
}

const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** A random valid fleet: capacity, jitter and 1-3 non-overlapping windows (whole days included). */
function randomFleet(seed: number): Record<string, unknown> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const max = 1 + Math.floor(next() * 6);
  const min = Math.floor(next() * (max + 1) * 0.5);
  const desired = min + Math.floor(next() * (max - min + 1));
  const windows: RawWindow[] = [];
  for (let attempt = 0; attempt < 6 && windows.length < 3; attempt++) {
    const wholeDay = next() < 0.3;
    const start = wholeDay ? 0 : Math.floor(next() * 96) * 15;
    const end = wholeDay ? 24 * 60 : Math.floor(next() * 96 + 1) * 15;
    if (start === end) continue;
    const window: RawWindow = { days: pick(DAY_EXPRESSIONS), start: hhmm(start), end: hhmm(end) };
    if (next() < 0.5) window.desired = min + Math.floor(next() * (max - min + 1));
    const candidate = [...windows, window];
    const parsed = candidate.map((w) => ({ ...w, days: parseDays(w.days) as Weekday[], desired: w.desired ?? desired }));
    if (overlappingWindows(parsed).length === 0) windows.push(window);
  }
  if (windows.length === 0) windows.push({ days: 'daily', start: '00:00', end: '24:00' });
  const maxJitterMinutes = pick([0, 0, 5, 9, 30]);
  return {
    name: `prop-${seed}`,
    capacity: { min, max, desired },
    schedule: { timeZone: pick(TIME_ZONES), maxJitterMinutes, windows },
  };
}

/** Cron `m h * * days` (0 = Sunday) -> the minutes of the (Monday-based) week it fires at. */
function cronMinutes(cron: string): number[] {
  const [minute, hour, , , dayField] = cron.split(' ');
  const cronDays = new Set<number>();
  for (const part of dayField === '*' ? ['0-6'] : dayField.split(',')) {
    const [from, to] = part.split('-').map(Number);
    for (let d = from; d <= (to ?? from); d++) cronDays.add(d);
  }
  return [...cronDays].map((cronDay) => ((cronDay + 6) % 7) * 1440 + Number(hour) * 60 + Number(minute));
}

interface TemplateWeek {
  /** What the group runs when the template is deployed, before any scheduled action fires. */
  readonly initial: number;
  /** What the group runs at each minute of the week once the actions have taken over. */
  readonly steady: Int32Array;
  readonly actionCount: number;
}

/** Plays the template's group and scheduled actions over a week, as Auto Scaling would. */
function templateWeek(template: ReturnType<typeof buildFleet>['template']): TemplateWeek {
  const [group] = Object.values(resourcesOfType(template, ASG));
  const minSize = Number(group.Properties.MinSize);
  const initial = group.Properties.DesiredCapacity === undefined ? minSize : Number(group.Properties.DesiredCapacity);
  const changes = new Map<number, number>();
  const actions = Object.values(resourcesOfType(template, ACTION));
  for (const action of actions) {
    expect(action.Properties.MinSize).toBe(action.Properties.DesiredCapacity);
    for (const minute of cronMinutes(action.Properties.Recurrence as string)) {
      expect(changes.has(minute), `two actions at minute ${minute}`).toBe(false);
      changes.set(minute, Number(action.Properties.DesiredCapacity));
    }
  }
  const steady = new Int32Array(MINUTES_PER_WEEK);
  // Start from the last change of the previous week, then walk the week.
  let current = changes.size === 0 ? initial : changes.get(Math.max(...changes.keys()))!;
  for (let t = 0; t < MINUTES_PER_WEEK; t++) {
    current = changes.get(t) ?? current;
    steady[t] = current;
  }
  return { initial, steady, actionCount: actions.length };
}

const SEEDS = Array.from({ length: 24 }, (_v, i) => 1000 + i * 7919);

describe('schedule -> template -> cost (property, seeded)', () => {
  it.each(SEEDS)('seed %i: the template runs the schedule at every minute and the cost model counts the same hours', (seed) => {
    // GIVEN a random schedule
    const raw = randomFleet(seed);
    const spec = fleetSpec(raw);
    const profile = fleetCapacityProfile(spec);
    // WHEN the fleet is synthesized
    const { template } = buildFleet(raw, { scheduleCatchUpServiceToken: CATCH_UP_TOKEN });
    const week = templateWeek(template);
    // THEN the group runs the schedule's capacity at every minute of the week
    const mismatches: string[] = [];
    for (let t = 0; t < MINUTES_PER_WEEK && mismatches.length < 3; t++) {
      if (week.steady[t] !== desiredAt(profile, t))
        mismatches.push(`minute ${t}: template ${week.steady[t]}, schedule ${desiredAt(profile, t)}`);
    }
    expect(mismatches, JSON.stringify(raw)).toEqual([]);
    // AND a week without scheduled actions is deployed at the schedule's capacity, not left at MinSize
    if (week.actionCount === 0) expect(week.initial).toBe(desiredAt(profile, 0));
    // AND a week with actions is created at its floor, never above what the schedule asks for
    else expect(week.initial).toBe(Math.min(...profile.map((s) => s.desired)));
    // AND the cost model bills the instance-hours the template runs
    const templateHours = week.steady.reduce((sum, n) => sum + n, 0) / 60;
    const report = estimateCost({ fleets: [spec] }, { prices: snapshotPriceBook('us-east-1'), week: TYPICAL_WEEK });
    expect(report.fleets[0].instanceHoursPerWeek).toBeCloseTo(templateHours, 6);
    // AND deployed at a random instant, the catch-up sets what the scheduled actions had set by then
    const catchUps = Object.values(resourcesOfType(template, CATCH_UP));
    expect(catchUps).toHaveLength(week.actionCount === 0 ? 0 : 1);
    if (catchUps.length === 0) return;
    // As CloudFormation resolves them: the group's Ref becomes its name.
    const properties = { ...catchUps[0].Properties, AutoScalingGroupName: `gitlab-runner-fleet-prop-${seed}` };
    const next = random(seed ^ 0x5eed);
    const wrong: string[] = [];
    for (let i = 0; i < 50; i++) {
      // Any instant from 2026 to 2028, DST switches included.
      const instant = Date.UTC(2026, 0, 1) + Math.floor(next() * 3 * 365 * 24 * 60) * 60_000;
      const minute = localMinuteOfWeek(spec.schedule!.timeZone, instant);
      const plan = planCatchUp('Create', properties, instant);
      const scheduled = week.steady[minute];
      if (
        plan.kind !== 'apply' ||
        plan.desiredCapacity !== scheduled ||
        plan.minSize !== scheduled ||
        scheduled !== desiredAt(profile, minute)
      ) {
        wrong.push(`${new Date(instant).toISOString()} (local minute ${minute}): catch-up ${JSON.stringify(plan)}, actions ${scheduled}`);
      }
    }
    expect(wrong, JSON.stringify(raw)).toEqual([]);
  });
});

describe('whole-week schedules (issue 14, defect 1)', () => {
  const WHOLE_WEEKS: Record<string, RawWindow[]> = {
    'daily 00:00-24:00': [{ days: 'daily', start: '00:00', end: '24:00' }],
    'mon-fri plus weekends 00:00-24:00': [
      { days: 'mon-fri', start: '00:00', end: '24:00' },
      { days: 'weekends', start: '00:00', end: '24:00' },
    ],
  };

  it.each(Object.entries(WHOLE_WEEKS))('%s: the group is deployed running capacity.desired', (_name, windows) => {
    // GIVEN a schedule covering the whole week at capacity.desired 2, capacity.min 0
    const raw = { capacity: { min: 0, max: 4, desired: 2 }, schedule: { timeZone: 'Europe/Berlin', windows } };
    // WHEN the fleet is synthesized
    const { template } = buildFleet(raw);
    // THEN no scheduled action is needed and the group itself asks for 2, with a floor of 2
    template.resourceCountIs(ACTION, 0);
    template.hasResourceProperties(ASG, { MinSize: '2', DesiredCapacity: '2' });
  });

  it('weekdays at 2 and weekends at 1 around the clock: the group never drops to capacity.min 0', () => {
    // GIVEN windows that tile the week with two capacities
    const raw = {
      capacity: { min: 0, max: 4, desired: 2 },
      schedule: {
        timeZone: 'UTC',
        maxJitterMinutes: 0,
        windows: [
          { days: 'mon-fri', start: '00:00', end: '24:00' },
          { days: 'weekends', start: '00:00', end: '24:00', desired: 1 },
        ],
      },
    };
    // WHEN the fleet is synthesized THEN its floor is the weekend's 1, not 0
    buildFleet(raw).template.hasResourceProperties(ASG, { MinSize: '1' });
  });
});
