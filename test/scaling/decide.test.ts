import { describe, expect, it } from 'vitest';
import { decideScaling, type FleetInstance } from '../../lib/scaling/decide';
import { demandEnvelope } from '../../lib/scaling/envelope';
import { simulateFleet } from '../../lib/scaling/simulate';
import { at, officeHoursFleet, SETTINGS } from './fixtures';

const NOW = 1_000_000;
const idle = (id: string, idleFor = 3600): FleetInstance => ({ id, phase: 'in-service', busySlots: 0, idleSince: NOW - idleFor });
const busy = (id: string, slots = 3): FleetInstance => ({ id, phase: 'in-service', busySlots: slots });

describe('the envelope', () => {
  it('in a window: from the warm floor to capacity.max', () => {
    expect(demandEnvelope(officeHoursFleet(), at('tue', '10:00'))).toEqual({ min: 1, max: 10, working: true });
  });

  it('outside a window with scaleFromZero: from capacity.min to capacity.max', () => {
    expect(demandEnvelope(officeHoursFleet(), at('tue', '20:00'))).toEqual({ min: 0, max: 10, working: false });
  });

  it('outside a window without scaleFromZero: pinned at capacity.min', () => {
    expect(demandEnvelope(officeHoursFleet({ scaleFromZero: false }), at('sat', '10:00'))).toEqual({ min: 0, max: 0, working: false });
  });

  it('never puts the floor under capacity.min', () => {
    expect(demandEnvelope(officeHoursFleet({ min: 2, desired: 4, warm: 0 }), at('tue', '10:00')).min).toBe(2);
  });

  it('an unscheduled fleet is always in working hours', () => {
    const fleet = { ...officeHoursFleet(), scheduled: false, profile: [{ fromMinute: 0, toMinute: 10080, desired: 0 }] };
    expect(demandEnvelope(fleet, at('sun', '03:00')).working).toBe(true);
  });
});

describe('hand-checkable days', () => {
  it('a burst at 20:00 with zero instances starts exactly the slots it needs (no headroom off hours)', () => {
    // GIVEN a spot fleet outside its window, no instances, 25 jobs pending
    const envelope = demandEnvelope(officeHoursFleet(), at('mon', '20:00'));
    // WHEN the scaler decides
    const decision = decideScaling({ envelope, queuedJobs: 25, instances: [], currentDesired: 0, settings: SETTINGS, now: NOW });
    // THEN 3 instances of 10 slots
    expect(decision).toMatchObject({ desiredCapacity: 3, remove: [], reason: 'scale-out' });
  });

  it('a burst at 20:00: every job starts within boot time plus one scaler step', () => {
    const jobs = Array.from({ length: 25 }, (_v, i) => ({ arrival: i, durationSeconds: 600 }));
    const result = simulateFleet({
      fleet: officeHoursFleet(),
      settings: SETTINGS,
      startMinuteOfWeek: at('mon', '20:00'),
      durationSeconds: 3600,
      stepSeconds: 10,
      bootSeconds: 90,
      jobs,
    });
    expect(Math.max(...result.waitSeconds.map((w) => w ?? Infinity))).toBeLessThanOrEqual(100);
    expect(Math.max(...result.samples.map((s) => s.capacity))).toBe(3);
    expect(result.samples.at(-1)?.capacity).toBe(0);
  });

  it('a slow trickle in working hours stays on the warm instance', () => {
    // one 5-minute job every 10 minutes from 09:00 to 12:00
    const jobs = Array.from({ length: 18 }, (_v, i) => ({ arrival: i * 600, durationSeconds: 300 }));
    const result = simulateFleet({
      fleet: officeHoursFleet(),
      settings: SETTINGS,
      startMinuteOfWeek: at('tue', '09:00'),
      durationSeconds: 3 * 3600,
      stepSeconds: 10,
      bootSeconds: 90,
      jobs,
      initialInstances: 2,
    });
    expect(result.waitSeconds.every((w) => w === 0)).toBe(true);
    // the second scheduled instance idles out after scaleInIdleSeconds; the warm one stays
    expect(result.samples.at(-1)?.capacity).toBe(1);
    expect(Math.max(...result.samples.slice(100).map((s) => s.capacity))).toBe(1);
  });

  it('a spike above max is capped at the schedule max', () => {
    const envelope = demandEnvelope(officeHoursFleet(), at('wed', '11:00'));
    const decision = decideScaling({
      envelope,
      queuedJobs: 200,
      instances: [busy('i-1', 10)],
      currentDesired: 1,
      settings: SETTINGS,
      now: NOW,
    });
    expect(decision).toMatchObject({ desiredCapacity: 10, reason: 'capped-by-schedule' });
    expect(decision.wantedInstances).toBe(30);
  });

  it('the end of a window with busy instances: idle ones go now, busy ones drain through the hook', () => {
    // GIVEN an on-demand fleet (no scaleFromZero) just after 18:00 with one idle and two busy instances
    const envelope = demandEnvelope(officeHoursFleet({ scaleFromZero: false }), at('thu', '18:01'));
    const instances = [busy('i-busy-1'), idle('i-idle', 30), busy('i-busy-2', 1)];
    // WHEN the scaler decides
    const decision = decideScaling({ envelope, queuedJobs: 0, instances, currentDesired: 3, settings: SETTINGS, now: NOW });
    // THEN the idle one is removed at once (not after its idle time) and desired goes to the schedule's min
    expect(decision).toMatchObject({ remove: ['i-idle'], desiredCapacity: 0, reason: 'capped-by-schedule' });
  });

  it('the end of a window: capacity reaches min once the last job finished', () => {
    const result = simulateFleet({
      fleet: officeHoursFleet({ scaleFromZero: false }),
      settings: SETTINGS,
      startMinuteOfWeek: at('thu', '17:00'),
      durationSeconds: 3 * 3600,
      stepSeconds: 60,
      bootSeconds: 120,
      jobs: [
        { arrival: 3000, durationSeconds: 3600 },
        { arrival: 3000, durationSeconds: 600 },
      ],
      initialInstances: 2,
    });
    expect(result.busyRemovedByScaler).toBe(0);
    const afterLastJob = result.samples.filter((s) => s.second >= 3000 + 3600 + 60);
    expect(afterLastJob.every((s) => s.capacity === 0 && s.busySlots === 0)).toBe(true);
  });

  it('a weekday/weekend switch does not stop job pickup: a Saturday job still gets a runner', () => {
    const result = simulateFleet({
      fleet: officeHoursFleet(),
      settings: SETTINGS,
      startMinuteOfWeek: at('fri', '17:30'),
      durationSeconds: 20 * 3600,
      stepSeconds: 60,
      bootSeconds: 120,
      jobs: [{ arrival: 16 * 3600, durationSeconds: 900 }],
      initialInstances: 1,
    });
    expect(result.waitSeconds[0]).toBeLessThanOrEqual(180);
    expect(result.samples.at(-1)?.capacity).toBe(0);
  });
});

describe('idle-first scale-in', () => {
  const envelope = { min: 0, max: 10, working: true };

  it('removes the idle instance, never the busy one', () => {
    const decision = decideScaling({
      envelope,
      queuedJobs: 0,
      instances: [busy('i-a', 1), idle('i-b')],
      currentDesired: 2,
      settings: SETTINGS,
      now: NOW,
    });
    expect(decision).toMatchObject({ remove: ['i-b'], desiredCapacity: 1, reason: 'scale-in' });
  });

  it('keeps an instance that has not been idle for scaleInIdleSeconds', () => {
    const decision = decideScaling({
      envelope,
      queuedJobs: 0,
      instances: [idle('i-a', 60)],
      currentDesired: 1,
      settings: SETTINGS,
      now: NOW,
    });
    expect(decision).toMatchObject({ remove: [], desiredCapacity: 1, reason: 'hold' });
  });

  it('takes an instance that has not reported busy slots for a busy one', () => {
    const silent: FleetInstance = { id: 'i-silent', phase: 'in-service' };
    const decision = decideScaling({ envelope, queuedJobs: 0, instances: [silent], currentDesired: 1, settings: SETTINGS, now: NOW });
    expect(decision.remove).toEqual([]);
    expect(decision.desiredCapacity).toBe(1);
  });

  it('removes the longest idle first', () => {
    const decision = decideScaling({
      envelope,
      queuedJobs: 0,
      instances: [idle('i-recent', 700), idle('i-oldest', 5000), idle('i-middle', 2000)],
      currentDesired: 3,
      settings: SETTINGS,
      now: NOW,
    });
    expect(decision.remove).toEqual(['i-oldest', 'i-middle', 'i-recent']);
  });

  it('never removes a booting instance', () => {
    const decision = decideScaling({
      envelope,
      queuedJobs: 0,
      instances: [{ id: 'i-boot', phase: 'booting' }],
      currentDesired: 1,
      settings: SETTINGS,
      now: NOW,
    });
    expect(decision.remove).toEqual([]);
  });

  it('keeps headroom to the busy target in working hours', () => {
    // 14 busy slots at a 70% target need 20 slots: 2 instances
    const decision = decideScaling({
      envelope,
      queuedJobs: 0,
      instances: [busy('i-a', 7), busy('i-b', 7), idle('i-c')],
      currentDesired: 3,
      settings: SETTINGS,
      now: NOW,
    });
    expect(decision).toMatchObject({ remove: ['i-c'], desiredCapacity: 2, wantedInstances: 2 });
  });
});
