import { describe, expect, it } from 'vitest';
import {
  decideFallback,
  formatFallbackState,
  parseFallbackEvent,
  parseFallbackState,
  type FallbackEvent,
  type GroupFacts,
  type SpotFallbackTarget,
} from '../../lib/lambda/spot-fallback/core';
import { GROUP } from './events';

const T0 = Date.parse('2026-11-28T10:00:00Z');
const min = (n: number) => T0 + n * 60_000;
const SETTINGS: SpotFallbackTarget = { enabled: true, onDemandBase: 0, afterMinutes: 10, returnAfterMinutes: 60 };
const CAPACITY_MESSAGE =
  'Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.';

const failure = (at: number, message = CAPACITY_MESSAGE): FallbackEvent => ({
  kind: 'launch-failure',
  groupName: GROUP,
  at,
  message,
  capacityError: parseCapacity(message),
});
const tick = (at: number): FallbackEvent => ({ kind: 'tick', at });
const facts = (overrides: Partial<GroupFacts> = {}): GroupFacts => ({
  groupName: GROUP,
  desired: 4,
  max: 6,
  onDemandBase: 0,
  spotInstances: 1,
  ...overrides,
});
const stateTag = (state: Parameters<typeof formatFallbackState>[0]) => formatFallbackState(state);

function parseCapacity(message: string): boolean {
  const parsed = parseFallbackEvent({
    'detail-type': 'EC2 Instance Launch Unsuccessful',
    time: '2026-11-28T10:00:00Z',
    detail: { AutoScalingGroupName: GROUP, StatusCode: 'Failed', StatusMessage: message },
  });
  return parsed.kind === 'launch-failure' && parsed.capacityError;
}

describe('parseFallbackEvent', () => {
  it('reads a launch failure as AWS documents it, with its group, time and whether it is a capacity error', () => {
    const parsed = parseFallbackEvent({
      'detail-type': 'EC2 Instance Launch Unsuccessful',
      source: 'aws.autoscaling',
      time: '2026-11-28T10:00:00Z',
      detail: { StatusCode: 'Failed', AutoScalingGroupName: GROUP, StatusMessage: CAPACITY_MESSAGE, Cause: 'At 2026-11-28 ...' },
    });

    expect(parsed).toMatchObject({ kind: 'launch-failure', groupName: GROUP, at: T0, capacityError: true });
  });

  it.each([
    ['InsufficientInstanceCapacity', CAPACITY_MESSAGE, true],
    [
      'on-demand pool without capacity',
      'We currently do not have sufficient m7g.large capacity in the Availability Zone you requested',
      true,
    ],
    [
      'spot price',
      'SpotMaxPriceTooLow - Your Spot request price of 0.01 is lower than the minimum required Spot request fulfillment price',
      true,
    ],
    ['a broken launch template', 'The image id [ami-0123] does not exist. Launching EC2 instance failed.', false],
    ['missing permissions', 'You are not authorized to perform this operation.', false],
  ])('tells capacity errors from others: %s', (_name, message, expected) => {
    expect(parseCapacity(message)).toBe(expected);
  });

  it('reads the scheduled timer event as a tick at its time', () => {
    expect(parseFallbackEvent({ 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-28T10:00:00Z' })).toEqual({
      kind: 'tick',
      at: T0,
    });
  });

  it('rejects other events, events without a time and failures without a group, saying why', () => {
    expect(parseFallbackEvent({ 'detail-type': 'EC2 Instance Launch Successful', time: '2026-11-28T10:00:00Z' })).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('is not handled'),
    });
    expect(parseFallbackEvent({ 'detail-type': 'Scheduled Event' })).toMatchObject({ kind: 'unsupported' });
    expect(
      parseFallbackEvent({ 'detail-type': 'EC2 Instance Launch Unsuccessful', time: '2026-11-28T10:00:00Z', detail: {} }),
    ).toMatchObject({
      kind: 'unsupported',
      reason: expect.stringContaining('without AutoScalingGroupName'),
    });
    expect(parseFallbackEvent('text')).toMatchObject({ kind: 'unsupported' });
  });
});

describe('fallback state tag', () => {
  it('round-trips, in whole seconds', () => {
    const state = { shortSince: min(1), lastFailureAt: min(2), fallbackSince: min(3), returnedAt: min(4) };

    expect(parseFallbackState(formatFallbackState(state))).toEqual(state);
  });

  it('ignores malformed and unknown fields instead of failing', () => {
    expect(parseFallbackState('since=abc returned=12 bogus=5 =')).toEqual({ returnedAt: 12_000 });
    expect(parseFallbackState(undefined)).toEqual({});
  });
});

describe('decideFallback: on-demand takes over', () => {
  it('starts the shortfall clock on the first capacity error and waits afterMinutes', () => {
    const plan = decideFallback(failure(T0), SETTINGS, facts(), T0);

    expect(plan).toMatchObject({ action: 'track', shortfall: 3, state: { shortSince: T0, lastFailureAt: T0 } });
    expect(plan.onDemandBase).toBeUndefined();
  });

  it('raises the on-demand base by the shortfall once the shortfall lasted afterMinutes', () => {
    const plan = decideFallback(failure(min(10)), SETTINGS, facts({ stateTag: stateTag({ shortSince: T0 }) }), min(10));

    expect(plan).toMatchObject({ action: 'raise', onDemandBase: 3, shortfall: 3, state: { fallbackSince: min(10) } });
  });

  it('raises at the first capacity error with afterMinutes 0', () => {
    const plan = decideFallback(failure(T0), { ...SETTINGS, afterMinutes: 0 }, facts(), T0);

    expect(plan).toMatchObject({ action: 'raise', onDemandBase: 3 });
  });

  it('raises on a timer tick when the group stayed short without a launch failure event', () => {
    const first = decideFallback(tick(T0), SETTINGS, facts(), T0);
    const later = decideFallback(tick(min(10)), SETTINGS, facts({ stateTag: stateTag(first.state!) }), min(10));

    expect(first).toMatchObject({ action: 'track', state: { shortSince: T0 } });
    expect(later).toMatchObject({ action: 'raise', onDemandBase: 3 });
  });

  it('adds the shortfall to the configured base', () => {
    const plan = decideFallback(failure(T0), { ...SETTINGS, onDemandBase: 1, afterMinutes: 0 }, facts({ onDemandBase: 1 }), T0);

    // 4 desired - 1 spot - 1 configured on-demand = 2 short
    expect(plan).toMatchObject({ action: 'raise', onDemandBase: 3, shortfall: 2 });
  });

  it('never asks for a base above the group max', () => {
    const plan = decideFallback(failure(T0), { ...SETTINGS, afterMinutes: 0 }, facts({ desired: 10, max: 5, spotInstances: 0 }), T0);

    expect(plan).toMatchObject({ action: 'raise', onDemandBase: 5 });
  });

  it('ignores launch failures that more capacity would not fix', () => {
    const plan = decideFallback(failure(T0, 'The image id [ami-0123] does not exist.'), { ...SETTINGS, afterMinutes: 0 }, facts(), T0);

    expect(plan).toMatchObject({ action: 'none', reason: expect.stringContaining('more capacity would not fix') });
  });

  it('forgets the shortfall clock when spot covers the desired capacity again', () => {
    const plan = decideFallback(tick(min(5)), SETTINGS, facts({ spotInstances: 4, stateTag: stateTag({ shortSince: T0 }) }), min(5));

    expect(plan).toMatchObject({ action: 'track', state: {} });
    expect(plan.state!.shortSince).toBeUndefined();
  });
});

describe('decideFallback: duplicates and out-of-order events are harmless', () => {
  const raised = stateTag({ fallbackSince: min(10), lastFailureAt: min(10) });

  it('does not raise again for a duplicate of the event that raised it, even before the on-demand instances exist', () => {
    const plan = decideFallback(failure(min(10)), SETTINGS, facts({ onDemandBase: 3, stateTag: raised }), min(11));

    expect(plan.onDemandBase).toBeUndefined();
    expect(plan.action).toBe('none');
  });

  it('does not raise again once on-demand instances run', () => {
    // 1 spot + 3 on-demand: the shortfall is covered by the base already
    const plan = decideFallback(failure(min(12)), SETTINGS, facts({ onDemandBase: 3, stateTag: raised }), min(12));

    expect(plan.onDemandBase).toBeUndefined();
  });

  it('raises further when the desired capacity grew while in fallback', () => {
    const plan = decideFallback(failure(min(20)), SETTINGS, facts({ desired: 6, onDemandBase: 3, stateTag: raised }), min(20));

    expect(plan).toMatchObject({ action: 'raise', onDemandBase: 5 });
  });

  it('keeps the earliest shortfall time when failures arrive out of order', () => {
    const late = decideFallback(
      failure(min(3)),
      SETTINGS,
      facts({ stateTag: stateTag({ shortSince: min(5), lastFailureAt: min(5) }) }),
      min(6),
    );

    expect(late.state).toMatchObject({ shortSince: min(3), lastFailureAt: min(5) });
  });

  it('ignores a capacity error from before the last return to spot', () => {
    const plan = decideFallback(
      failure(min(50)),
      { ...SETTINGS, afterMinutes: 0 },
      facts({ stateTag: stateTag({ returnedAt: min(60) }) }),
      min(61),
    );

    expect(plan).toMatchObject({ action: 'none', reason: 'capacity error from before the last return to spot' });
  });
});

describe('decideFallback: back to spot', () => {
  const raised = stateTag({ fallbackSince: min(10), lastFailureAt: min(10) });
  const covered = { onDemandBase: 3, spotInstances: 1, stateTag: raised };

  it('stays on on-demand until returnAfterMinutes passed without a capacity error', () => {
    const plan = decideFallback(tick(min(69)), SETTINGS, facts(covered), min(69));

    expect(plan).toMatchObject({ action: 'none', reason: 'in fallback' });
  });

  it('returns to the configured base after returnAfterMinutes, reporting the fallback minutes', () => {
    const plan = decideFallback(tick(min(70)), SETTINGS, facts(covered), min(70));

    expect(plan).toMatchObject({ action: 'return', onDemandBase: 0, fallbackMinutes: 60, state: { returnedAt: min(70) } });
  });

  it('counts the period from the latest capacity error', () => {
    const recent = stateTag({ fallbackSince: min(10), lastFailureAt: min(40) });

    expect(decideFallback(tick(min(70)), SETTINGS, facts({ ...covered, stateTag: recent }), min(70)).action).toBe('none');
    expect(decideFallback(tick(min(100)), SETTINGS, facts({ ...covered, stateTag: recent }), min(100)).action).toBe('return');
  });

  it('returns to the base of the current configuration, not to one remembered from before (seed 001)', () => {
    const plan = decideFallback(tick(min(70)), { ...SETTINGS, onDemandBase: 2 }, facts({ ...covered, onDemandBase: 3 }), min(70));

    expect(plan).toMatchObject({ action: 'return', onDemandBase: 2 });
  });

  it('returns a group left in fallback at once when the fallback was turned off', () => {
    const plan = decideFallback(tick(min(20)), { ...SETTINGS, enabled: false }, facts(covered), min(20));

    expect(plan).toMatchObject({ action: 'return', onDemandBase: 0, fallbackMinutes: 10 });
  });

  it('does nothing for a fleet with the fallback off that is not in fallback', () => {
    expect(decideFallback(failure(T0), { ...SETTINGS, enabled: false, afterMinutes: 0 }, facts(), T0).action).toBe('none');
  });
});
