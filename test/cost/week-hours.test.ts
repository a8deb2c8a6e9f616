import { describe, expect, it } from 'vitest';
import { fleetCapacityProfile, instanceHoursPerWeek } from '../../lib/config';
import { estimateFleetCost } from '../../lib/cost/estimate';
import { snapshotPriceBook } from '../../lib/cost/price-book';
import { localToInstant, localWeekStart, realInstanceHours, segmentHours } from '../../lib/cost/week-hours';
import { fleetWith, schedule } from './helpers';

const profileOf = (days: string, start: string, end: string, timeZone: string) =>
  fleetCapacityProfile(fleetWith({ schedule: schedule(days, start, end, timeZone) }));
const week = (date: string) => ({ kind: 'calendar', date }) as const;

describe.each([
  // zone, the Sunday clocks go forward, the Sunday they go back (2026)
  ['Europe/Berlin', '2026-03-29', '2026-10-25'],
  ['America/New_York', '2026-03-08', '2026-11-01'],
])('real hours in %s', (timeZone, springSunday, autumnSunday) => {
  const night = profileOf('sun', '00:00', '06:00', timeZone);
  const office = profileOf('mon-fri', '08:00', '18:00', timeZone);

  it(`loses an hour in a Sunday 00:00-06:00 window on ${springSunday}`, () =>
    expect(realInstanceHours(night, timeZone, week(springSunday))).toBe(5));

  it(`gains an hour in a Sunday 00:00-06:00 window on ${autumnSunday}`, () =>
    expect(realInstanceHours(night, timeZone, week(autumnSunday))).toBe(7));

  it('keeps a Mon-Fri 08:00-18:00 window at 50 hours in both DST weeks', () => {
    expect(realInstanceHours(office, timeZone, week(springSunday))).toBe(50);
    expect(realInstanceHours(office, timeZone, week(autumnSunday))).toBe(50);
  });

  it('counts the wall-clock 6 hours in a week without a change', () =>
    expect(realInstanceHours(night, timeZone, week('2026-06-14'))).toBe(6));

  it('keeps the whole week at 167 and 169 real hours in the change weeks', () => {
    const always = fleetCapacityProfile(fleetWith({}));
    expect(segmentHours(always, timeZone, week(springSunday)).reduce((a, b) => a + b, 0)).toBe(167);
    expect(segmentHours(always, timeZone, week(autumnSunday)).reduce((a, b) => a + b, 0)).toBe(169);
  });
});

describe('a typical week', () => {
  it('counts the DST-free hours of the profile', () => {
    const profile = profileOf('sun', '00:00', '06:00', 'Europe/Berlin');
    expect(realInstanceHours(profile, 'Europe/Berlin')).toBe(instanceHoursPerWeek(profile));
  });

  it('is what the estimate uses by default', () => {
    const fleet = fleetWith({ schedule: schedule('sun', '00:00', '06:00') });
    const prices = snapshotPriceBook('us-east-1');
    expect(estimateFleetCost(fleet, { prices }).instanceHoursPerWeek).toBe(6);
    expect(estimateFleetCost(fleet, { prices, week: week('2026-03-29') }).instanceHoursPerWeek).toBe(5);
  });
});

describe('local times', () => {
  it('finds the Monday that starts the week of a Sunday', () =>
    expect(new Date(localWeekStart('2026-03-29')).toISOString()).toBe('2026-03-23T00:00:00.000Z'));

  it('moves a time skipped by the spring change forward by the gap (02:30 Berlin -> 01:30Z = 03:30 CEST)', () => {
    expect(new Date(localToInstant('Europe/Berlin', Date.UTC(2026, 2, 29, 2, 30))).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('takes the first of a time that happens twice in autumn (02:30 Berlin -> 00:30Z, CEST)', () => {
    expect(new Date(localToInstant('Europe/Berlin', Date.UTC(2026, 9, 25, 2, 30))).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('rejects a week that is not a date', () =>
    expect(() => localWeekStart('2026-02-30')).toThrow('week "2026-02-30" is not a date; use YYYY-MM-DD, e.g. 2026-03-29'));
});
