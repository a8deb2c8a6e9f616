import { describe, expect, it } from 'vitest';
import { LIFECYCLE_HOOKS } from '../../lib/identity/runner-identity';
import {
  decideSafetyNet,
  DETAIL_TYPES,
  parseSafetyNetEvent,
  TERMINATING_TRANSITION,
  type SafetyNetEvent,
} from '../../lib/lambda/safety-net/core';
import { FLEET, GROUP, spotInterruption, terminateLifecycleAction, terminateSuccessful, TOKEN_SECRET } from './events';

const INSTANCE = 'i-0123456789abcdef0';
const config = { fleets: [{ name: FLEET, autoScalingGroupName: GROUP, tokenSecretName: TOKEN_SECRET }] };

function withDetail(event: Record<string, unknown>, detail: Record<string, unknown>): Record<string, unknown> {
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...detail } };
}

function reasonOf(raw: unknown): string {
  const event = parseSafetyNetEvent(raw);
  if (event.kind !== 'unsupported') throw new Error(`expected unsupported, got ${event.kind}`);
  return event.reason;
}

describe('parseSafetyNetEvent on malformed events', () => {
  it('rejects a body that is JSON but not an object', () => {
    expect(reasonOf([terminateSuccessful(INSTANCE)])).toBe('event is not a JSON object');
    expect(reasonOf(null)).toBe('event is not a JSON object');
  });

  it('rejects a terminate event whose detail is not an object, naming the missing instance id', () => {
    expect(reasonOf({ ...terminateSuccessful(INSTANCE), detail: 'oops' })).toBe(
      'EC2 Instance Terminate Successful without a valid EC2InstanceId',
    );
  });

  it('treats an empty instance id as missing', () => {
    expect(reasonOf(withDetail(terminateSuccessful(INSTANCE), { EC2InstanceId: '' }))).toMatch(/without a valid EC2InstanceId/);
  });

  it('rejects a terminate event without a group name', () => {
    expect(reasonOf(withDetail(terminateSuccessful(INSTANCE), { AutoScalingGroupName: undefined }))).toBe(
      'EC2 Instance Terminate Successful without AutoScalingGroupName',
    );
  });

  it('rejects a spot warning without an instance id', () => {
    expect(reasonOf(withDetail(spotInterruption(INSTANCE), { 'instance-id': 42 }))).toBe(
      'EC2 Spot Instance Interruption Warning without a valid instance-id',
    );
  });

  it('rejects a spot warning whose instance id is not an EC2 id', () => {
    expect(reasonOf(withDetail(spotInterruption(INSTANCE), { 'instance-id': 'arn:aws:ec2:x' }))).toMatch(/without a valid instance-id/);
  });

  it('names an unknown detail-type, quoted, including a missing one', () => {
    expect(reasonOf({ 'detail-type': 'EC2 Instance State-change Notification', detail: {} })).toBe(
      'detail-type "EC2 Instance State-change Notification" is not handled',
    );
    expect(reasonOf({ detail: {} })).toBe('detail-type undefined is not handled');
  });

  it('reads a lifecycle action without hook, transition or token as empty hook and transition', () => {
    const event = parseSafetyNetEvent(
      withDetail(terminateLifecycleAction(INSTANCE), {
        LifecycleHookName: '',
        LifecycleTransition: undefined,
        LifecycleActionToken: undefined,
      }),
    );
    expect(event).toEqual({
      kind: 'terminate-lifecycle-action',
      instanceId: INSTANCE,
      groupName: GROUP,
      hookName: '',
      transition: '',
      lifecycleActionToken: undefined,
    });
  });

  it('reads a spot warning without an action', () => {
    expect(parseSafetyNetEvent(withDetail(spotInterruption(INSTANCE), { 'instance-action': undefined }))).toEqual({
      kind: 'spot-interruption',
      instanceId: INSTANCE,
      action: undefined,
    });
  });
});

describe('decideSafetyNet on lifecycle actions that are not the fleet terminate hook', () => {
  const lifecycle = (hookName: string, transition: string, groupName = GROUP): SafetyNetEvent => ({
    kind: 'terminate-lifecycle-action',
    instanceId: INSTANCE,
    groupName,
    hookName,
    transition,
    lifecycleActionToken: 'tok',
  });

  it('ignores a lifecycle action of a group outside the fleets without completing it', () => {
    const plan = decideSafetyNet(lifecycle(LIFECYCLE_HOOKS.terminate, TERMINATING_TRANSITION, 'other-asg'), config, {
      state: 'terminated',
    });
    expect(plan).toMatchObject({ outcome: 'ignored', reason: 'group other-asg is not a fleet group', deleteManager: false });
    expect(plan.completeLifecycle).toBeUndefined();
  });

  it('ignores another hook of a fleet group without completing it', () => {
    const plan = decideSafetyNet(lifecycle('someone-elses-hook', TERMINATING_TRANSITION), config, {
      state: 'terminated',
      groupName: GROUP,
    });
    expect(plan).toMatchObject({
      outcome: 'ignored',
      reason: "hook someone-elses-hook is not the fleet's terminate hook",
      deleteManager: false,
    });
    expect(plan.completeLifecycle).toBeUndefined();
    expect(plan.fleet?.name).toBe(FLEET);
  });

  it('says (none) for a missing hook name', () => {
    expect(decideSafetyNet(lifecycle('', TERMINATING_TRANSITION), config, { state: 'terminated' }).reason).toBe(
      "hook (none) is not the fleet's terminate hook",
    );
  });

  it('ignores a launch transition on the terminate hook', () => {
    const plan = decideSafetyNet(lifecycle(LIFECYCLE_HOOKS.terminate, 'autoscaling:EC2_INSTANCE_LAUNCHING'), config, { state: 'running' });
    expect(plan).toMatchObject({
      outcome: 'ignored',
      reason: `transition autoscaling:EC2_INSTANCE_LAUNCHING is not ${TERMINATING_TRANSITION}`,
    });
    expect(plan.completeLifecycle).toBeUndefined();
  });

  it('says (none) for a missing transition', () => {
    expect(decideSafetyNet(lifecycle(LIFECYCLE_HOOKS.terminate, ''), config, { state: 'running' }).reason).toBe(
      `transition (none) is not ${TERMINATING_TRANSITION}`,
    );
  });

  it('refuses to decide a lifecycle action without the instance state', () => {
    expect(() => decideSafetyNet(lifecycle(LIFECYCLE_HOOKS.terminate, TERMINATING_TRANSITION), config)).toThrow(
      `terminate-lifecycle-action for ${INSTANCE} needs the instance state`,
    );
  });
});

describe('decideSafetyNet on spot warnings outside the fleets', () => {
  const spot: SafetyNetEvent = { kind: 'spot-interruption', instanceId: INSTANCE, action: 'terminate' };

  it('explains that a forgotten instance is left to Terminate Successful', () => {
    const plan = decideSafetyNet(spot, config, { state: 'not-found' });
    expect(plan.outcome).toBe('ignored');
    expect(plan.reason).toMatch(/no longer described by EC2/);
  });

  it('names the foreign group of a running instance', () => {
    expect(decideSafetyNet(spot, config, { state: 'running', groupName: 'other-asg' }).reason).toBe(
      'instance is not in a fleet group (group: other-asg)',
    );
  });

  it('says none for an instance in no group', () => {
    expect(decideSafetyNet(spot, config, { state: 'running' }).reason).toBe('instance is not in a fleet group (group: none)');
  });
});

describe('detail types', () => {
  it('match the names AWS documents', () => {
    expect(Object.values(DETAIL_TYPES).sort()).toEqual([
      'EC2 Instance Terminate Successful',
      'EC2 Instance-terminate Lifecycle Action',
      'EC2 Spot Instance Interruption Warning',
    ]);
  });
});
