import { describe, expect, it } from 'vitest';
import {
  capacityProfile,
  desiredAt,
  instanceHoursPerWeek,
  jitterMinutes,
  MINUTES_PER_WEEK,
  parseDays,
  scheduledChanges,
  uptimeHoursPerWeek,
  type UptimeWindow,
} from '../../lib/config/schedule';

const monFri = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const office: UptimeWindow = { days: monFri, start: '08:00', end: '18:00', desired: 2 };

describe('day expressions', () => {
  it('accepts ranges, lists, aliases and arrays, in week order without duplicates', () => {
    expect(parseDays('mon-fri')).toEqual([...monFri]);
    expect(parseDays('fri,mon, wed')).toEqual(['mon', 'wed', 'fri']);
    expect(parseDays(['sun', 'sat', 'sat'])).toEqual(['sat', 'sun']);
    expect(parseDays('weekends')).toEqual(['sat', 'sun']);
    expect(parseDays('daily')).toHaveLength(7);
    expect(parseDays('Weekdays')).toEqual([...monFri]);
  });

  it('explains what is wrong with a bad expression', () => {
    expect(parseDays('fri-mon')).toMatch(/"fri-mon" is not a day range/);
    expect(parseDays('funday')).toMatch(/"funday" is not a day; allowed: mon, tue/);
    expect(parseDays([])).toBe('at least one day is required');
  });
});

describe('jitter', () => {
  it('is stable for a name, within 1..max, and 0 when disabled', () => {
    expect(jitterMinutes('graviton-spot', 9)).toBe(jitterMinutes('graviton-spot', 9));
    for (const name of ['a', 'team-a', 'team-b', 'graviton-ondemand']) {
      const j = jitterMinutes(name, 9);
      expect(j).toBeGreaterThanOrEqual(1);
      expect(j).toBeLessThanOrEqual(9);
    }
    expect(jitterMinutes('graviton-spot', 0)).toBe(0);
  });

  it('spreads fifty fleets over the jitter range instead of one minute', () => {
    const minutes = new Set(Array.from({ length: 50 }, (_, i) => jitterMinutes(`fleet-${i}`, 9)));
    expect(minutes.size).toBeGreaterThanOrEqual(7);
  });
});

describe('capacity profile', () => {
  it('covers the whole week with contiguous segments', () => {
    const profile = capacityProfile({ windows: [office], minCapacity: 0, jitterMinutes: 3 });
    expect(profile[0].fromMinute).toBe(0);
    expect(profile[profile.length - 1].toMinute).toBe(MINUTES_PER_WEEK);
    profile.slice(1).forEach((s, i) => expect(s.fromMinute).toBe(profile[i].toMinute));
  });

  it('runs the window capacity inside windows and min outside', () => {
    const profile = capacityProfile({ windows: [office], minCapacity: 1, jitterMinutes: 0 });
    expect(desiredAt(profile, 8 * 60)).toBe(2); // Monday 08:00
    expect(desiredAt(profile, 18 * 60)).toBe(1); // Monday 18:00
    expect(desiredAt(profile, 5 * 1440 + 9 * 60)).toBe(1); // Saturday 09:00
  });

  it('widens windows by the jitter on both sides, so the team hours stay covered', () => {
    const profile = capacityProfile({ windows: [office], minCapacity: 0, jitterMinutes: 4 });
    expect(desiredAt(profile, 8 * 60 - 4)).toBe(2);
    expect(desiredAt(profile, 8 * 60 - 5)).toBe(0);
    expect(desiredAt(profile, 18 * 60 + 3)).toBe(2);
    expect(desiredAt(profile, 18 * 60 + 4)).toBe(0);
  });

  it('counts the seed schedules: 40 h and 10 h of uptime a week', () => {
    const forty = capacityProfile({
      windows: [{ days: monFri, start: '09:00', end: '17:00', desired: 1 }],
      minCapacity: 0,
      jitterMinutes: 0,
    });
    const ten = capacityProfile({
      windows: [{ days: monFri, start: '09:00', end: '11:00', desired: 1 }],
      minCapacity: 0,
      jitterMinutes: 0,
    });
    expect(uptimeHoursPerWeek(forty)).toBe(40);
    expect(uptimeHoursPerWeek(ten)).toBe(10);
  });

  it('counts instance-hours separately from uptime hours, including the floor outside windows', () => {
    const profile = capacityProfile({ windows: [office], minCapacity: 1, jitterMinutes: 0 });
    expect(uptimeHoursPerWeek(profile)).toBe(168);
    expect(instanceHoursPerWeek(profile)).toBe(168 + 50); // one always, a second for 5 x 10 h
  });

  it('wraps a window crossing midnight on Sunday into Monday', () => {
    const profile = capacityProfile({
      windows: [{ days: ['sun'], start: '22:00', end: '02:00', desired: 3 }],
      minCapacity: 0,
      jitterMinutes: 0,
    });
    expect(desiredAt(profile, 60)).toBe(3); // Monday 01:00
    expect(desiredAt(profile, MINUTES_PER_WEEK - 60)).toBe(3); // Sunday 23:00
    expect(uptimeHoursPerWeek(profile)).toBe(4);
  });
});

describe('scheduled changes', () => {
  it('needs none for a constant profile', () => {
    expect(scheduledChanges([{ fromMinute: 0, toMinute: MINUTES_PER_WEEK, desired: 2 }])).toEqual([]);
  });

  it('groups the same change on several days into one cron (0 = Sunday), with jitter off the round minute', () => {
    const changes = scheduledChanges(capacityProfile({ windows: [office], minCapacity: 0, jitterMinutes: 3 }));
    expect(changes).toEqual([
      { id: 'scale-to-2-at-0757-mon-fri', days: [...monFri], hour: 7, minute: 57, desired: 2, cron: '57 7 * * 1-5' },
      { id: 'scale-to-0-at-1803-mon-fri', days: [...monFri], hour: 18, minute: 3, desired: 0, cron: '3 18 * * 1-5' },
    ]);
  });

  it('moves a change that the jitter pushes before midnight to the previous day', () => {
    const changes = scheduledChanges(
      capacityProfile({ windows: [{ days: ['mon'], start: '00:00', end: '06:00', desired: 1 }], minCapacity: 0, jitterMinutes: 5 }),
    );
    expect(changes.map((c) => c.cron)).toEqual(['5 6 * * 1', '55 23 * * 0']);
  });

  it('merges adjacent windows into one step instead of down-then-up', () => {
    const changes = scheduledChanges(
      capacityProfile({
        windows: [
          { days: ['mon'], start: '08:00', end: '12:00', desired: 2 },
          { days: ['mon'], start: '12:00', end: '18:00', desired: 4 },
        ],
        minCapacity: 0,
        jitterMinutes: 0,
      }),
    );
    expect(changes.map((c) => `${c.cron}=${c.desired}`)).toEqual(['0 8 * * 1=2', '0 12 * * 1=4', '0 18 * * 1=0']);
  });

  it('writes day lists with gaps as cron lists and readable ids', () => {
    const [up] = scheduledChanges(
      capacityProfile({
        windows: [{ days: ['mon', 'tue', 'wed', 'fri', 'sun'], start: '09:00', end: '10:00', desired: 1 }],
        minCapacity: 0,
        jitterMinutes: 0,
      }),
    );
    expect(up.cron).toBe('0 9 * * 0-3,5');
    expect(up.id).toBe('scale-to-1-at-0900-mon-wed_fri_sun');
  });
});
