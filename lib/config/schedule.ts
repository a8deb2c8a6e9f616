/**
 * Weekly uptime schedules: the one model that both the deployed scheduled actions and the
 * cost estimate are computed from, so what the estimate counts is what AWS runs.
 *
 * Pure: no CDK, no AWS SDK. Times are local to the fleet's IANA time zone; minute 0 of
 * the week is Monday 00:00 local time.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MINUTES_PER_DAY = 24 * 60;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** Day expressions a window accepts besides a list of day names. */
export const DAY_ALIASES: Readonly<Record<string, readonly Weekday[]>> = {
  daily: WEEKDAYS,
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

/** A weekly period in which the fleet runs `desired` instances. */
export interface UptimeWindow {
  /** Days on which the window starts. */
  readonly days: readonly Weekday[];
  /** Local start time, `HH:MM`. */
  readonly start: string;
  /** Local end time, `HH:MM` (`24:00` allowed). An end at or before the start crosses midnight. */
  readonly end: string;
  /** Instances during the window. */
  readonly desired: number;
}

/** A stretch of the week with a constant capacity. */
export interface CapacitySegment {
  /** First minute of the week (inclusive). */
  readonly fromMinute: number;
  /** Last minute of the week (exclusive). */
  readonly toMinute: number;
  readonly desired: number;
}

/** One scheduled capacity change, repeating weekly on `days`. */
export interface ScheduledChange {
  /** Deterministic, readable identifier, e.g. `scale-to-2-at-0757-mon-fri`. */
  readonly id: string;
  readonly days: readonly Weekday[];
  readonly hour: number;
  readonly minute: number;
  readonly desired: number;
  /** Unix cron for AWS Auto Scaling `Recurrence` (day of week 0 = Sunday). */
  readonly cron: string;
}

/**
 * Parses a day expression: a list of day names, `mon-fri`, `mon,wed,fri`, `daily`,
 * `weekdays` or `weekends`. Returns an error message instead of throwing so the config
 * validator can report it with its path.
 */
export function parseDays(expression: string | readonly string[]): Weekday[] | string {
  const parts = typeof expression === 'string' ? expression.split(',') : [...expression];
  const days = new Set<Weekday>();
  for (const raw of parts) {
    const part = raw.trim().toLowerCase();
    const alias = DAY_ALIASES[part];
    if (alias) {
      alias.forEach((d) => days.add(d));
      continue;
    }
    const range = part.split('-');
    if (range.length === 2) {
      const from = WEEKDAYS.indexOf(range[0] as Weekday);
      const to = WEEKDAYS.indexOf(range[1] as Weekday);
      if (from < 0 || to < 0 || to < from) {
        return `"${raw}" is not a day range; use e.g. mon-fri (days: ${WEEKDAYS.join(', ')})`;
      }
      for (let i = from; i <= to; i++) days.add(WEEKDAYS[i]);
      continue;
    }
    if (!WEEKDAYS.includes(part as Weekday)) {
      return `"${raw}" is not a day; allowed: ${WEEKDAYS.join(', ')}, a range such as mon-fri, or ${Object.keys(DAY_ALIASES).join(', ')}`;
    }
    days.add(part as Weekday);
  }
  if (days.size === 0) return 'at least one day is required';
  return WEEKDAYS.filter((d) => days.has(d));
}

const TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Minutes after local midnight for `HH:MM`, or undefined when malformed. */
export function minuteOfDay(time: string): number | undefined {
  if (!TIME_PATTERN.test(time)) return undefined;
  const [h, m] = time.split(':').map(Number);
  return h * 60 + m;
}

/**
 * The jitter applied to a fleet's scheduled actions: 1..maxJitterMinutes, derived from the
 * fleet name (FNV-1a), so it is stable across synths but differs between fleets and never
 * lands on the round minute everybody else picks (seed 000: the tyranny of the clock).
 */
export function jitterMinutes(fleetName: string, maxJitterMinutes: number): number {
  if (maxJitterMinutes <= 0) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < fleetName.length; i++) {
    hash ^= fleetName.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % maxJitterMinutes) + 1;
}

/** The week-minute intervals a window covers: one per day, possibly crossing midnight. */
export function windowIntervals(window: UptimeWindow): Array<[number, number]> {
  const start = minuteOfDay(window.start) ?? 0;
  let end = minuteOfDay(window.end) ?? 0;
  if (end <= start) end += MINUTES_PER_DAY;
  return window.days.map((day) => {
    const dayStart = WEEKDAYS.indexOf(day) * MINUTES_PER_DAY;
    return [dayStart + start, dayStart + end];
  });
}

/**
 * Pairs of windows whose intervals overlap, as `[windowIndexA, windowIndexB, day]`,
 * so the validator can name them. Overlap is checked modulo the week, so Sunday 22:00-02:00
 * overlaps Monday 01:00-05:00.
 */
export function overlappingWindows(windows: readonly UptimeWindow[]): Array<[number, number, Weekday]> {
  // A window never overlaps itself, so one window (most fleets) needs no minute map.
  if (windows.length < 2) return [];
  const owner = new Int16Array(MINUTES_PER_WEEK).fill(-1);
  const found: Array<[number, number, Weekday]> = [];
  const reported = new Set<string>();
  windows.forEach((window, index) => {
    for (const [from, to] of windowIntervals(window)) {
      for (let t = from; t < to; t++) {
        const minute = t % MINUTES_PER_WEEK;
        const other = owner[minute];
        if (other >= 0 && other !== index) {
          const key = `${other}:${index}`;
          if (!reported.has(key)) {
            reported.add(key);
            found.push([other, index, WEEKDAYS[Math.floor(minute / MINUTES_PER_DAY)]]);
          }
        } else {
          owner[minute] = index;
        }
      }
    }
  });
  return found;
}

/** Input for {@link capacityProfile}. */
export interface CapacityProfileInput {
  readonly windows: readonly UptimeWindow[];
  /** Capacity outside every window. */
  readonly minCapacity: number;
  /** Minutes each window is widened by on both sides (start earlier, end later). */
  readonly jitterMinutes: number;
}

/**
 * The fleet's desired capacity over one local week, as contiguous segments covering
 * minute 0 to {@link MINUTES_PER_WEEK}. Windows are widened by the jitter so the team's
 * hours are always covered: runners come up a little early and leave a little late.
 * Where widened windows touch, the larger capacity wins.
 */
export function capacityProfile(input: CapacityProfileInput): CapacitySegment[] {
  // Fleets of a big config share a few schedules: each distinct one is computed once per process.
  const key = JSON.stringify([input.windows, input.minCapacity, input.jitterMinutes]);
  let profile = capacityProfiles.get(key);
  if (!profile) {
    profile = computeCapacityProfile(input);
    capacityProfiles.set(key, profile);
  }
  return [...profile];
}

const capacityProfiles = new Map<string, readonly CapacitySegment[]>();

function computeCapacityProfile(input: CapacityProfileInput): readonly CapacitySegment[] {
  const desired = new Int32Array(MINUTES_PER_WEEK).fill(input.minCapacity);
  for (const window of input.windows) {
    for (const [from, to] of windowIntervals(window)) {
      for (let t = from - input.jitterMinutes; t < to + input.jitterMinutes; t++) {
        const minute = ((t % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
        if (window.desired > desired[minute]) desired[minute] = window.desired;
      }
    }
  }
  const segments: CapacitySegment[] = [];
  let from = 0;
  for (let t = 1; t <= MINUTES_PER_WEEK; t++) {
    if (t === MINUTES_PER_WEEK || desired[t] !== desired[from]) {
      segments.push(Object.freeze({ fromMinute: from, toMinute: t, desired: desired[from] }));
      from = t;
    }
  }
  return segments;
}

/** Desired capacity at a local minute of the week. */
export function desiredAt(profile: readonly CapacitySegment[], minuteOfWeek: number): number {
  const minute = ((minuteOfWeek % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
  const segment = profile.find((s) => minute >= s.fromMinute && minute < s.toMinute);
  return segment ? segment.desired : 0;
}

/** Hours per (local, DST-free) week in which at least one instance runs. */
export function uptimeHoursPerWeek(profile: readonly CapacitySegment[]): number {
  return profile.reduce((sum, s) => sum + (s.desired > 0 ? s.toMinute - s.fromMinute : 0), 0) / 60;
}

/** Instance-hours per (local, DST-free) week: each running instance counted. */
export function instanceHoursPerWeek(profile: readonly CapacitySegment[]): number {
  return profile.reduce((sum, s) => sum + s.desired * (s.toMinute - s.fromMinute), 0) / 60;
}

/**
 * The scheduled capacity changes that make the group follow the profile: one per distinct
 * (time of day, capacity), with all the days it applies to in one cron expression. A
 * profile with a single constant segment needs no scheduled change.
 */
export function scheduledChanges(profile: readonly CapacitySegment[]): ScheduledChange[] {
  if (profile.length <= 1) return [];
  // A segment boundary at minute 0 is only a change if Sunday's last minute differs.
  const first = profile[0];
  const last = profile[profile.length - 1];
  const changes = profile.filter((_segment, i) => i > 0 || first.desired !== last.desired);
  const groups = new Map<string, { minuteOfDay: number; desired: number; days: Set<number> }>();
  for (const segment of changes) {
    const minuteOfDayValue = segment.fromMinute % MINUTES_PER_DAY;
    const dayIndex = Math.floor(segment.fromMinute / MINUTES_PER_DAY);
    const key = `${minuteOfDayValue}:${segment.desired}`;
    const group = groups.get(key) ?? { minuteOfDay: minuteOfDayValue, desired: segment.desired, days: new Set() };
    group.days.add(dayIndex);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort(
      (a, b) =>
        Math.min(...a.days) * MINUTES_PER_DAY + a.minuteOfDay - (Math.min(...b.days) * MINUTES_PER_DAY + b.minuteOfDay) ||
        a.desired - b.desired,
    )
    .map((group) => {
      const dayIndexes = [...group.days].sort((a, b) => a - b);
      const days = dayIndexes.map((i) => WEEKDAYS[i]);
      const hour = Math.floor(group.minuteOfDay / 60);
      const minute = group.minuteOfDay % 60;
      const hhmm = `${String(hour).padStart(2, '0')}${String(minute).padStart(2, '0')}`;
      return {
        id: `scale-to-${group.desired}-at-${hhmm}-${dayRanges(dayIndexes)
          .map((r) => r.map((i) => WEEKDAYS[i]).join('-'))
          .join('_')}`,
        days,
        hour,
        minute,
        desired: group.desired,
        cron: `${minute} ${hour} * * ${cronDays(dayIndexes)}`,
      };
    });
}

/** Consecutive runs of Monday-based day indexes, e.g. [0,1,2,4] -> [[0,2],[4]]. */
function dayRanges(dayIndexes: readonly number[]): number[][] {
  const ranges: number[][] = [];
  let start = dayIndexes[0];
  let previous = start;
  for (const day of [...dayIndexes.slice(1), Number.NaN]) {
    if (day === previous + 1) {
      previous = day;
      continue;
    }
    ranges.push(start === previous ? [start] : [start, previous]);
    start = day;
    previous = day;
  }
  return ranges;
}

/** Cron day-of-week field (0 = Sunday) for Monday-based indexes, ranges compressed. */
function cronDays(dayIndexes: readonly number[]): string {
  if (dayIndexes.length === 7) return '*';
  const cronIndexes = dayIndexes.map((i) => (i + 1) % 7).sort((a, b) => a - b);
  return dayRanges(cronIndexes)
    .map((r) => r.join('-'))
    .join(',');
}

/**
 * What an Auto Scaling group template must say so the group follows a capacity profile: its
 * size when created and the scheduled changes after that.
 */
export interface GroupCapacityPlan {
  /** The group's MinSize: the lowest capacity of the week, so nothing scales it below the schedule. */
  readonly minSize: number;
  /**
   * The group's DesiredCapacity at creation. Set when the week is constant (no scheduled change
   * would ever set it); left out when scheduled changes own it, so a deploy does not reset it.
   */
  readonly desiredCapacity?: number;
  readonly changes: readonly ScheduledChange[];
}

/**
 * The group settings that follow a scheduled profile. A constant week (e.g. `daily 00:00-24:00`,
 * or windows that tile the week at one capacity) has no change to schedule, so the capacity goes
 * into the template itself; otherwise the template holds the week's floor and the changes do the
 * rest.
 */
export function groupCapacityPlan(profile: readonly CapacitySegment[]): GroupCapacityPlan {
  const floor = Math.min(...profile.map((s) => s.desired));
  const changes = scheduledChanges(profile);
  if (changes.length === 0) return { minSize: floor, desiredCapacity: floor, changes };
  return { minSize: floor, changes };
}

/** The week minute (0 = Monday 00:00 local) of each day a scheduled change fires on. */
export function changeMinutes(change: Pick<ScheduledChange, 'days' | 'hour' | 'minute'>): number[] {
  return change.days.map((day) => WEEKDAYS.indexOf(day) * MINUTES_PER_DAY + change.hour * 60 + change.minute);
}

/**
 * The change in force at a local minute of the week: the last one that fired at or before it,
 * wrapping to last week's final change before the week's first. This is what a group that has
 * followed its scheduled actions runs at that minute; undefined when there are no changes.
 */
export function changeInForce<T extends Pick<ScheduledChange, 'days' | 'hour' | 'minute'>>(
  changes: readonly T[],
  minuteOfWeek: number,
): T | undefined {
  const minute = ((minuteOfWeek % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
  let best: { change: T; minutesAgo: number } | undefined;
  for (const change of changes) {
    for (const fires of changeMinutes(change)) {
      const minutesAgo = (minute - fires + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
      if (!best || minutesAgo < best.minutesAgo) best = { change, minutesAgo };
    }
  }
  return best?.change;
}

const WEEKDAY_OF_INTL: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/**
 * The local minute of the week (0 = Monday 00:00) of an instant in an IANA time zone, as the
 * wall clock there shows it, daylight saving time included (what Auto Scaling's scheduled actions
 * with a `TimeZone` fire on). Throws a RangeError for an unknown time zone.
 */
export function localMinuteOfWeek(timeZone: string, epochMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epochMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAY_OF_INTL[get('weekday')] ?? 0;
  return (day * MINUTES_PER_DAY + Number(get('hour')) * 60 + Number(get('minute'))) % MINUTES_PER_WEEK;
}

/** True when a profile never asks for an instance. */
export function neverRuns(profile: readonly CapacitySegment[]): boolean {
  return profile.every((s) => s.desired === 0);
}
