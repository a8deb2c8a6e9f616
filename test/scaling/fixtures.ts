import { capacityProfile, MINUTES_PER_DAY, parseDays, type Weekday } from '../../lib/config/schedule';
import type { EnvelopeFleet } from '../../lib/scaling/envelope';
import type { ScalingSettings } from '../../lib/scaling/decide';

/** Mon-fri 08:00-18:00 at `desired`, no jitter, so every minute is hand-checkable. */
export function officeHoursFleet(
  opts: { scaleFromZero?: boolean; max?: number; min?: number; desired?: number; warm?: number } = {},
): EnvelopeFleet {
  const min = opts.min ?? 0;
  return {
    capacity: { min, max: opts.max ?? 10 },
    profile: capacityProfile({
      windows: [{ days: parseDays('mon-fri') as Weekday[], start: '08:00', end: '18:00', desired: opts.desired ?? 2 }],
      minCapacity: min,
      jitterMinutes: 0,
    }),
    scheduled: true,
    scaleFromZero: opts.scaleFromZero ?? true,
    warmInstances: opts.warm ?? 1,
  };
}

export const SETTINGS: ScalingSettings = { concurrency: 10, targetBusyRatio: 0.7, scaleInIdleSeconds: 600 };

const DAY_INDEX: Record<Weekday, number> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };

/** Local minute of the week of a day and HH:MM. */
export function at(day: Weekday, time: string): number {
  const [h, m] = time.split(':').map(Number);
  return DAY_INDEX[day] * MINUTES_PER_DAY + h * 60 + m;
}
