import { describe, expect, it } from 'vitest';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { decideSafetyNet, parseSafetyNetEvent, SPOT_MAX_CHECKS, type SafetyNetEvent } from '../../lib/lambda/safety-net/core';
import { FLEET, GROUP, spotInterruption, terminateLifecycleAction, terminateSuccessful, TOKEN_SECRET } from './events';

const INSTANCE = 'i-0123456789abcdef0';
const config = { fleets: [{ name: FLEET, autoScalingGroupName: GROUP, tokenSecretName: TOKEN_SECRET }] };

function parsed(raw: Record<string, unknown>): SafetyNetEvent {
  const event = parseSafetyNetEvent(raw);
  if (event.kind === 'unsupported') throw new Error(event.reason);
  return event;
}

describe('parseSafetyNetEvent', () => {
  it('reads instance, group, hook and action token from a terminate lifecycle action', () => {
    expect(parseSafetyNetEvent(terminateLifecycleAction(INSTANCE, { token: 'tok-1' }))).toMatchObject({
      kind: 'terminate-lifecycle-action',
      instanceId: INSTANCE,
      groupName: GROUP,
      hookName: 'gitlab-runner-fleet-drained',
      lifecycleActionToken: 'tok-1',
    });
  });

  it('reads the instance id of a spot interruption warning', () => {
    expect(parseSafetyNetEvent(spotInterruption(INSTANCE))).toEqual({
      kind: 'spot-interruption',
      instanceId: INSTANCE,
      action: 'terminate',
    });
  });

  it('reports other detail types as unsupported', () => {
    expect(parseSafetyNetEvent({ 'detail-type': 'EC2 Instance Launch Successful', detail: {} })).toMatchObject({ kind: 'unsupported' });
  });

  it('reports an event without a valid instance id as unsupported', () => {
    expect(parseSafetyNetEvent(terminateSuccessful('not-an-instance'))).toMatchObject({ kind: 'unsupported' });
  });
});

describe('decideSafetyNet', () => {
  it('deletes the manager of a terminated fleet instance, named by its instance id', () => {
    const plan = decideSafetyNet(parsed(terminateSuccessful(INSTANCE)), config);

    expect(plan).toMatchObject({ outcome: 'cleaned-up', deleteManager: true, systemId: systemIdForInstance(INSTANCE), retryLater: false });
    expect(plan.fleet?.tokenSecretName).toBe(TOKEN_SECRET);
    expect(plan.completeLifecycle).toBeUndefined();
  });

  it('ignores instances of groups that are not fleets', () => {
    const plan = decideSafetyNet(parsed(terminateSuccessful(INSTANCE, 'someone-elses-group')), config);

    expect(plan).toMatchObject({ outcome: 'ignored', deleteManager: false });
  });

  it('leaves a terminate lifecycle action of a running instance to its drain agent', () => {
    const plan = decideSafetyNet(parsed(terminateLifecycleAction(INSTANCE)), config, { state: 'running', groupName: GROUP });

    expect(plan).toMatchObject({ outcome: 'left-to-agent', deleteManager: false, retryLater: false });
    expect(plan.completeLifecycle).toBeUndefined();
  });

  it.each(['shutting-down', 'terminated', 'stopped', 'not-found'] as const)(
    'deletes the manager and completes the action when the instance is %s',
    (state) => {
      const plan = decideSafetyNet(parsed(terminateLifecycleAction(INSTANCE, { token: 'tok-1' })), config, { state });

      expect(plan).toMatchObject({
        outcome: 'cleaned-up',
        deleteManager: true,
        completeLifecycle: {
          groupName: GROUP,
          hookName: 'gitlab-runner-fleet-drained',
          instanceId: INSTANCE,
          lifecycleActionToken: 'tok-1',
        },
      });
    },
  );

  it('does not complete lifecycle actions of hooks that are not the fleet terminate hook', () => {
    const plan = decideSafetyNet(parsed(terminateLifecycleAction(INSTANCE, { hook: 'other-team-hook' })), config, { state: 'terminated' });

    expect(plan).toMatchObject({ outcome: 'ignored', deleteManager: false });
    expect(plan.completeLifecycle).toBeUndefined();
  });

  it('lets a running spot instance finish its notice and looks again later', () => {
    const plan = decideSafetyNet(parsed(spotInterruption(INSTANCE)), config, { state: 'running', groupName: GROUP });

    expect(plan).toMatchObject({ outcome: 'wait-for-termination', deleteManager: false, retryLater: true });
  });

  it('deletes the manager of a spot instance once it is shutting down', () => {
    const plan = decideSafetyNet(parsed(spotInterruption(INSTANCE)), config, { state: 'shutting-down', groupName: GROUP });

    expect(plan).toMatchObject({ outcome: 'cleaned-up', deleteManager: true, retryLater: false });
  });

  it('stops re-checking a spot instance that outlives its notice, without a failure', () => {
    const plan = decideSafetyNet(
      parsed(spotInterruption(INSTANCE)),
      config,
      { state: 'running', groupName: GROUP },
      { receiveCount: SPOT_MAX_CHECKS },
    );

    expect(plan).toMatchObject({ outcome: 'left-to-agent', deleteManager: false, retryLater: false });
  });

  it('ignores spot notices for instances outside the fleets', () => {
    const plan = decideSafetyNet(parsed(spotInterruption(INSTANCE)), config, { state: 'running', groupName: 'web-servers' });

    expect(plan).toMatchObject({ outcome: 'ignored', deleteManager: false, retryLater: false });
  });
});
