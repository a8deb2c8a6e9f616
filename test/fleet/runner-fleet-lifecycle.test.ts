import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LIFECYCLE_HOOKS } from '../../lib/identity/runner-identity';
import { buildFleet } from '../support/stack-helpers';

const ASG = 'AWS::AutoScaling::AutoScalingGroup';

describe('RunnerFleet lifecycle hooks', () => {
  it('creates the launch hook with the group, abandoning a boot that never registers after 900 s', () => {
    const { template } = buildFleet();
    template.hasResourceProperties(ASG, {
      LifecycleHookSpecificationList: Match.arrayWith([
        Match.objectLike({
          LifecycleHookName: LIFECYCLE_HOOKS.launch,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          DefaultResult: 'ABANDON',
          HeartbeatTimeout: 900,
        }),
      ]),
    });
  });

  it('creates the terminate hook with the group, continuing when a dead agent stops heartbeating', () => {
    const { template } = buildFleet({ maxJobTimeoutMinutes: 60 });
    template.hasResourceProperties(ASG, {
      LifecycleHookSpecificationList: Match.arrayWith([
        Match.objectLike({
          LifecycleHookName: LIFECYCLE_HOOKS.terminate,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          DefaultResult: 'CONTINUE',
          HeartbeatTimeout: 300,
        }),
      ]),
    });
  });

  it('lengthens the terminate heartbeat timeout for a fleet whose jobs outlast 100 timeouts', () => {
    const { template } = buildFleet({ maxJobTimeoutMinutes: 1440 });
    template.hasResourceProperties(ASG, {
      LifecycleHookSpecificationList: Match.arrayWith([
        Match.objectLike({ LifecycleHookName: LIFECYCLE_HOOKS.terminate, HeartbeatTimeout: 900 }),
      ]),
    });
  });

  it('creates no separate lifecycle hook resources (they would miss the first instances)', () => {
    buildFleet().template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
  });

  it('exposes the heartbeat interval the drain agent must use, below the timeout', () => {
    const { fleet } = buildFleet({ maxJobTimeoutMinutes: 60 });
    expect(fleet.heartbeatInterval.toSeconds()).toBe(100);
    expect(fleet.heartbeatInterval.toSeconds()).toBeLessThan(fleet.terminateHook.heartbeatTimeoutSeconds);
  });

  it('passes the heartbeat interval to the instance scripts', () => {
    const { template, fleet } = buildFleet({ maxJobTimeoutMinutes: 1440 });
    const userData = JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'));
    expect(fleet.heartbeatInterval.toSeconds()).toBe(300);
    expect(userData).toMatch(/HEARTBEAT[A-Z_]*=\\?'?300/);
  });
});
