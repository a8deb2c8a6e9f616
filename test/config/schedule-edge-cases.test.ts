import { describe, expect, it } from 'vitest';
import { capacityProfile, desiredAt, scheduledChanges, WEEKDAYS } from '../../lib/config';

describe('scheduled changes for every day of the week', () => {
  it('uses "*" as the cron day field when a change happens daily', () => {
    // GIVEN a window on all seven days, no jitter
    const profile = capacityProfile({
      windows: [{ days: [...WEEKDAYS], start: '08:00', end: '18:00', desired: 2 }],
      minCapacity: 0,
      jitterMinutes: 0,
    });

    // THEN one scale-up and one scale-down cron, each for every day
    expect(scheduledChanges(profile).map((c) => [c.cron, c.desired])).toEqual([
      ['0 8 * * *', 2],
      ['0 18 * * *', 0],
    ]);
  });

  it('compresses weekdays into a range in the cron day field (0 = Sunday)', () => {
    const profile = capacityProfile({
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00', desired: 3 }],
      minCapacity: 1,
      jitterMinutes: 0,
    });

    expect(scheduledChanges(profile).map((c) => c.cron)).toEqual(['0 8 * * 1-5', '0 18 * * 1-5']);
  });
});

describe('desiredAt', () => {
  it('is 0 at a minute no segment covers', () => {
    expect(desiredAt([{ fromMinute: 0, toMinute: 60, desired: 3 }], 120)).toBe(0);
  });

  it('wraps minutes past the end of the week and before its start', () => {
    const profile = capacityProfile({
      windows: [{ days: ['mon'], start: '00:00', end: '01:00', desired: 4 }],
      minCapacity: 1,
      jitterMinutes: 0,
    });

    expect(desiredAt(profile, 7 * 24 * 60 + 30)).toBe(4);
    expect(desiredAt(profile, -30)).toBe(1);
  });
});
