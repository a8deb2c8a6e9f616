/**
 * When each fleet's scheduled token rotation starts (config `gitlabRunner.rotation`): one
 * instant per cycle of `everyMonths` months, inside the configured local window, on a day of
 * the month 1-28 (days every month has), never on a round hour (seed 000: scheduled work on
 * :00 stampedes shared services, here GitLab's runner API and the fleets' capacity).
 *
 * The instant is derived from the fleet name, so it is stable across synths, and spread over
 * days first: two fleets of one config in one time zone never start at the same day and minute
 * while the window has free slots, so their rolls (hours each) rarely overlap either.
 *
 * Pure: no CDK, no AWS SDK.
 */
import { jitterMinutes, minuteOfDay, MINUTES_PER_DAY } from './schedule';

/** Divisors of 12: the rotation months then repeat every year (month field `start/every`). */
export const ROTATION_INTERVAL_MONTHS = [1, 2, 3, 4, 6, 12] as const;
export type RotationIntervalMonths = (typeof ROTATION_INTERVAL_MONTHS)[number];

export const DEFAULT_ROTATION_EVERY_MONTHS: RotationIntervalMonths = 3;
/** Night hours: a roll replaces every instance, cheapest and least felt when the fleet is small. */
export const DEFAULT_ROTATION_WINDOW = '01:00-05:00';
/** Days 1-28 exist in every month. */
export const ROTATION_DAYS_OF_MONTH = 28;

/** One start instant, as EventBridge Scheduler cron fields in the rotation's time zone. */
export interface RotationSlot {
  /** First month (1-12) of the cycle; the rotation runs every `everyMonths` months from it. */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

export interface RotationRequest {
  readonly fleetName: string;
  readonly everyMonths: number;
  readonly timeZone: string;
  readonly window: string;
}

/** The window's first minute of the day and its length in minutes; undefined when it is not `HH:MM-HH:MM` with distinct ends. */
export function rotationWindow(window: string): { readonly start: number; readonly length: number } | undefined {
  const [from, to, ...rest] = window.split('-');
  if (rest.length > 0 || from === undefined || to === undefined) return undefined;
  const start = minuteOfDay(from);
  const end = minuteOfDay(to);
  if (start === undefined || end === undefined || start === MINUTES_PER_DAY || start === end) return undefined;
  return { start, length: end > start ? end - start : end + MINUTES_PER_DAY - start };
}

/**
 * The start instant of every requested rotation, by fleet name, in request order: a slot derived
 * from the name, moved on by a day (then by a minute) while an earlier fleet in the same time
 * zone holds that day and minute.
 */
export function rotationSlots(requests: readonly RotationRequest[]): Map<string, RotationSlot> {
  const taken = new Set<string>();
  const slots = new Map<string, RotationSlot>();
  for (const request of requests) {
    const window = rotationWindow(request.window);
    if (!window) throw new Error(`rotation window "${request.window}" of fleet ${request.fleetName} is not HH:MM-HH:MM`);
    const size = ROTATION_DAYS_OF_MONTH * window.length;
    const first = jitterMinutes(`token-rotation:${request.fleetName}`, size) - 1;
    let chosen: { day: number; minuteOfDay: number } | undefined;
    let fallback: { day: number; minuteOfDay: number } | undefined;
    for (let probe = 0; probe < size && !chosen; probe++) {
      const index = (first + probe) % size;
      const candidate = {
        day: (index % ROTATION_DAYS_OF_MONTH) + 1,
        minuteOfDay: (window.start + Math.floor(index / ROTATION_DAYS_OF_MONTH)) % MINUTES_PER_DAY,
      };
      if (candidate.minuteOfDay % 60 === 0) continue;
      fallback ??= candidate;
      if (!taken.has(`${request.timeZone} ${candidate.day} ${candidate.minuteOfDay}`)) chosen = candidate;
    }
    // Only a window of one round minute has no other minute; more fleets than slots share one.
    const slot = chosen ?? fallback ?? { day: (first % ROTATION_DAYS_OF_MONTH) + 1, minuteOfDay: (window.start + 1) % MINUTES_PER_DAY };
    taken.add(`${request.timeZone} ${slot.day} ${slot.minuteOfDay}`);
    slots.set(request.fleetName, {
      month: jitterMinutes(`token-rotation-month:${request.fleetName}`, request.everyMonths),
      day: slot.day,
      hour: Math.floor(slot.minuteOfDay / 60),
      minute: slot.minuteOfDay % 60,
    });
  }
  return slots;
}

/** The cron month field: every month, or every `everyMonths` months from the slot's month. */
export function rotationMonthField(slot: RotationSlot, everyMonths: number): string {
  return everyMonths === 1 ? '*' : `${slot.month}/${everyMonths}`;
}

/** The EventBridge Scheduler expression of a slot (read in the rotation's time zone). */
export function rotationCronExpression(slot: RotationSlot, everyMonths: number): string {
  return `cron(${slot.minute} ${slot.hour} ${slot.day} ${rotationMonthField(slot, everyMonths)} ? *)`;
}
