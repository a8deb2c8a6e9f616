import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideScaling, isIdle, type FleetInstance } from '../../lib/scaling/decide';
import { simulateFleet } from '../../lib/scaling/simulate';
import { officeHoursFleet, SETTINGS } from './fixtures';

const NOW = 2_000_000;

const instanceArb = fc.record({
  phase: fc.constantFrom('booting' as const, 'in-service' as const, 'draining' as const),
  busySlots: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  idleFor: fc.integer({ min: 0, max: 7200 }),
});

const inputArb = fc
  .record({
    min: fc.integer({ min: 0, max: 5 }),
    extra: fc.integer({ min: 0, max: 20 }),
    working: fc.boolean(),
    queued: fc.integer({ min: 0, max: 500 }),
    instances: fc.array(instanceArb, { maxLength: 30 }),
    extraDesired: fc.integer({ min: 0, max: 3 }),
    concurrency: fc.integer({ min: 1, max: 16 }),
    ratio: fc.double({ min: 0.1, max: 1, noNaN: true }),
  })
  .map((r) => {
    const instances: FleetInstance[] = r.instances.map((i, n) => ({
      id: `i-${String(n).padStart(8, '0')}`,
      phase: i.phase,
      busySlots: i.phase === 'in-service' ? i.busySlots : undefined,
      idleSince: i.phase === 'in-service' && i.busySlots === 0 ? NOW - i.idleFor : undefined,
    }));
    const active = instances.filter((i) => i.phase !== 'draining').length;
    return {
      envelope: { min: r.min, max: r.min + r.extra, working: r.working },
      queuedJobs: r.queued,
      instances,
      currentDesired: active + r.extraDesired,
      settings: { concurrency: r.concurrency, targetBusyRatio: r.ratio, scaleInIdleSeconds: 600 },
      now: NOW,
    };
  });

describe('scaling decision properties', () => {
  it('never sets desired capacity above the envelope max or below its min', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { desiredCapacity } = decideScaling(input);
        return desiredCapacity <= input.envelope.max && desiredCapacity >= input.envelope.min;
      }),
    );
  });

  it('only ever removes idle instances', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const idle = new Set(input.instances.filter(isIdle).map((i) => i.id));
        return decideScaling(input).remove.every((id) => idle.has(id));
      }),
    );
  });

  it('never leaves the group to pick a victim while an idle instance is kept', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decision = decideScaling(input);
        const active = input.instances.filter((i) => i.phase !== 'draining');
        const remaining = Math.max(active.length, input.currentDesired) - decision.remove.length;
        if (decision.desiredCapacity >= remaining) return true;
        const removed = new Set(decision.remove);
        return active.filter(isIdle).every((i) => removed.has(i.id));
      }),
    );
  });

  it('gives every busy and queued job a slot when the envelope max allows', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decision = decideScaling(input);
        const active = input.instances.filter((i) => i.phase !== 'draining');
        const busy = active
          .filter((i) => i.phase === 'in-service')
          .reduce((s, i) => s + Math.min(i.busySlots ?? 0, input.settings.concurrency), 0);
        const needed = busy + input.queuedJobs;
        const slots = decision.desiredCapacity * input.settings.concurrency;
        return slots >= Math.min(needed, input.envelope.max * input.settings.concurrency);
      }),
    );
  });
});

describe('random days', () => {
  const BOOT = 90;
  const STEP = 10;
  const dayArb = fc.record({
    startMinute: fc.integer({ min: 0, max: 7 * 1440 - 1 }),
    jobs: fc.array(fc.record({ arrival: fc.integer({ min: 0, max: 6 * 3600 }), durationSeconds: fc.integer({ min: 30, max: 3600 }) }), {
      maxLength: 60,
    }),
    initialInstances: fc.integer({ min: 0, max: 3 }),
  });
  const fleet = officeHoursFleet({ max: 6 });
  const settings = { ...SETTINGS, concurrency: 10 };

  it('every job gets a slot within boot time plus 10 s; no busy instance is removed; never above max', () => {
    fc.assert(
      fc.property(dayArb, (day) => {
        const result = simulateFleet({
          fleet,
          settings,
          startMinuteOfWeek: day.startMinute,
          durationSeconds: 8 * 3600,
          stepSeconds: STEP,
          bootSeconds: BOOT,
          jobs: day.jobs,
          initialInstances: day.initialInstances,
        });
        expect(result.waitSeconds.every((w) => w !== undefined && w <= BOOT + STEP)).toBe(true);
        expect(result.busyRemovedByScaler).toBe(0);
        expect(result.idleKeptOverBusy).toBe(0);
        expect(result.samples.every((s) => s.capacity <= s.envelopeMax)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
