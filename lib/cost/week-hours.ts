/**
 * How long each segment of a fleet's local weekly profile lasts in real (billed) hours.
 *
 * The schedule is written in local time, so in a week with a DST change a segment that spans
 * the change is an hour shorter (spring) or longer (autumn) than its wall-clock length. A
 * typical week has no change and every segment lasts exactly its wall-clock length, which is
 * what `instanceHoursPerWeek` in lib/config counts.
 *
 * Local times are resolved to instants the way scheduled actions run in practice and the way
 * Temporal's "compatible" disambiguation does: a time that does not exist (skipped by a spring
 * change) happens that much later, a time that exists twice (autumn) happens the first time.
 */
import { MINUTES_PER_DAY, WEEKDAYS, type CapacitySegment } from '../config/schedule';
import { CostError } from './errors';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = MINUTES_PER_DAY * MS_PER_MINUTE;

/** Which week the estimate is for. */
export type EstimateWeek =
  /** A week without a DST change: every segment lasts its wall-clock length. */
  | { readonly kind: 'typical' }
  /** The local week (Monday 00:00 to Monday 00:00 in the fleet's time zone) containing `date` (YYYY-MM-DD). */
  | { readonly kind: 'calendar'; readonly date: string };

export const TYPICAL_WEEK: EstimateWeek = { kind: 'typical' };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's UTC offset at an instant, in milliseconds (local = UTC + offset). */
export function utcOffsetMs(timeZone: string, instantMs: number): number {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(instantMs))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant of a local wall-clock time, given as milliseconds of a "naive" UTC date
 * (`Date.UTC(year, month, day, hour, minute)` of the local fields).
 */
export function localToInstant(timeZone: string, naiveMs: number): number {
  const before = utcOffsetMs(timeZone, naiveMs - MS_PER_DAY);
  const after = utcOffsetMs(timeZone, naiveMs + MS_PER_DAY);
  const candidates = [naiveMs - before, naiveMs - after].filter((t) => utcOffsetMs(timeZone, t) === naiveMs - t);
  // Two candidates: the time exists twice (autumn), take the first. None: it was skipped (spring),
  // so it happens as late as the skipped gap, which is what the offset before the change gives.
  return candidates.length > 0 ? Math.min(...candidates) : naiveMs - before;
}

/** Naive-UTC milliseconds of the Monday 00:00 that starts the local week containing `date` (YYYY-MM-DD). */
export function localWeekStart(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new CostError(`week "${date}" is not a date; use YYYY-MM-DD, e.g. 2026-03-29`);
  }
  const mondayBased = (new Date(ms).getUTCDay() + 6) % 7;
  return ms - mondayBased * MS_PER_DAY;
}

/** Real hours each profile segment lasts in the given week, in profile order. */
export function segmentHours(
  profile: readonly CapacitySegment[],
  timeZone: string | undefined,
  week: EstimateWeek = TYPICAL_WEEK,
): number[] {
  if (week.kind === 'typical' || timeZone === undefined) return profile.map((s) => (s.toMinute - s.fromMinute) / 60);
  const monday = localWeekStart(week.date);
  const instant = (minuteOfWeek: number) => localToInstant(timeZone, monday + minuteOfWeek * MS_PER_MINUTE);
  return profile.map((s) => (instant(s.toMinute) - instant(s.fromMinute)) / (60 * MS_PER_MINUTE));
}

/** Real instance-hours of a profile in the given week (each running instance counted). */
export function realInstanceHours(
  profile: readonly CapacitySegment[],
  timeZone: string | undefined,
  week: EstimateWeek = TYPICAL_WEEK,
): number {
  const hours = segmentHours(profile, timeZone, week);
  return profile.reduce((sum, s, i) => sum + s.desired * hours[i], 0);
}

/** A human description of the week, for reports. */
export function describeWeek(week: EstimateWeek): string {
  if (week.kind === 'typical') return 'a typical week (no DST change); monthly = weekly x 52/12, yearly = weekly x 52';
  const monday = new Date(localWeekStart(week.date)).toISOString().slice(0, 10);
  return `the local week starting ${WEEKDAYS[0]} ${monday} (real hours, DST changes counted); monthly and yearly extrapolate that week`;
}
