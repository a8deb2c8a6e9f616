/**
 * The spot fallback handler against Auto Scaling and EC2 mocked with aws-sdk-client-mock. The
 * group behaves like a small stateful fake: UpdateAutoScalingGroup and CreateOrUpdateTags change
 * what the next DescribeAutoScalingGroups returns, so duplicates and ordering are tested for real.
 */
import {
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import type { HandlerConfig } from '../../lib/lambda/shared/handler-config';
import { FALLBACK_STATE_TAG, formatFallbackState } from '../../lib/lambda/spot-fallback/core';
import { createSpotFallbackHandler } from '../../lib/lambda/spot-fallback/handler';
import { mockedAwsClients } from '../support/aws-mocks';
import { FLEET, GROUP, launchUnsuccessful, scheduledTick, sqsEvent, sqsRecord, TOKEN_SECRET } from './events';

const T0 = new Date('2026-11-28T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const OTHER_GROUP = 'gitlab-runner-fleet-not-ours';

interface FakeGroup {
  desired: number;
  max: number;
  onDemandBase: number;
  spot: string[];
  onDemand: string[];
  /** Spot instances in Terminating:Wait. */
  leaving: string[];
  tag?: string;
}

describe('spot fallback handler', () => {
  const { ec2, autoScaling, ec2Mock, asgMock, resetAwsMocks } = mockedAwsClients();
  let group: FakeGroup;
  let now: Date;
  let logs: Array<Record<string, unknown>>;
  let metrics: string[];
  let config: HandlerConfig;

  const handler = () =>
    createSpotFallbackHandler(() => ({
      config,
      autoScaling,
      ec2,
      now: () => now.getTime(),
      logger: (level, message, fields) => logs.push({ level, message, ...fields }),
      metrics: (line) => metrics.push(line),
    }));
  const updates = () => asgMock.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input);

  beforeEach(() => {
    resetAwsMocks();
    now = at(0);
    logs = [];
    metrics = [];
    config = {
      gitlabUrl: 'https://gitlab.example.com',
      fleets: [
        {
          name: FLEET,
          autoScalingGroupName: GROUP,
          tokenSecretName: TOKEN_SECRET,
          spotFallback: { enabled: true, onDemandBase: 0, afterMinutes: 0, returnAfterMinutes: 60 },
        },
      ],
    };
    // GIVEN a spot fleet that wants 4 instances and got 1 spot instance
    group = { desired: 4, max: 6, onDemandBase: 0, spot: ['i-0aaaaaaaaaaaaaaa1'], onDemand: [], leaving: [] };
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames?: string[] }) => ({
      AutoScalingGroups: (input.AutoScalingGroupNames ?? []).includes(GROUP) ? [describeGroup(group)] : [],
    }));
    asgMock.on(UpdateAutoScalingGroupCommand).callsFake((input) => {
      group.onDemandBase = input.MixedInstancesPolicy.InstancesDistribution.OnDemandBaseCapacity;
      return {};
    });
    asgMock.on(CreateOrUpdateTagsCommand).callsFake((input) => {
      group.tag = input.Tags[0].Value;
      return {};
    });
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
      Reservations: [
        {
          Instances: input.InstanceIds.map((id) => ({
            InstanceId: id,
            InstanceLifecycle: [...group.spot, ...group.leaving].includes(id) ? 'spot' : undefined,
          })),
        },
      ],
    }));
  });

  it('raises the on-demand base by the shortfall on a capacity error, and logs the switch as one structured event', async () => {
    const result = await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0)))));

    expect(result.batchItemFailures).toEqual([]);
    expect(updates()).toEqual([
      { AutoScalingGroupName: GROUP, MixedInstancesPolicy: { InstancesDistribution: { OnDemandBaseCapacity: 3 } } },
    ]);
    expect(group.tag).toBe(formatFallbackState({ lastFailureAt: T0.getTime(), fallbackSince: T0.getTime() }));
    expect(logs.filter((l) => l.event === 'spot-fallback-raised')).toEqual([
      expect.objectContaining({ fleet: FLEET, group: GROUP, onDemandBase: 3, shortfall: 3 }),
    ]);
  });

  it('writes its state on the group tag without propagating it to instances', async () => {
    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0)))));

    expect(asgMock.commandCalls(CreateOrUpdateTagsCommand)[0].args[0].input.Tags).toEqual([
      { ResourceId: GROUP, ResourceType: 'auto-scaling-group', Key: FALLBACK_STATE_TAG, Value: group.tag, PropagateAtLaunch: false },
    ]);
  });

  it('raises once for duplicated events, in one batch and in later ones', async () => {
    const event = launchUnsuccessful(at(0));

    await handler()(sqsEvent(sqsRecord(event), sqsRecord(event)));
    now = at(1);
    await handler()(sqsEvent(sqsRecord(event)));

    expect(updates()).toHaveLength(1);
  });

  it('does not raise again when an older failure arrives after the newer one', async () => {
    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(5)))));
    now = at(6);
    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(2)))));

    expect(updates().map((u) => u.MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity)).toEqual([3]);
  });

  it('waits afterMinutes before raising, then raises on the timer tick', async () => {
    config = { ...config, fleets: [{ ...config.fleets[0], spotFallback: { ...config.fleets[0].spotFallback!, afterMinutes: 10 } }] };

    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0)))));
    now = at(9);
    await handler()(sqsEvent(sqsRecord(scheduledTick(at(9)))));
    expect(updates()).toEqual([]);
    now = at(11);
    await handler()(sqsEvent(sqsRecord(scheduledTick(at(11)))));

    expect(updates()).toHaveLength(1);
  });

  it('never sets a base above the group max', async () => {
    group = { ...group, desired: 10, max: 5, spot: [] };

    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0)))));

    expect(updates()[0].MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity).toBe(5);
  });

  it('returns to spot after returnAfterMinutes without a capacity error, and reports the fallback minutes as an EMF metric', async () => {
    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0)))));
    group.onDemand = ['i-0bbbbbbbbbbbbbbb2', 'i-0bbbbbbbbbbbbbbb3', 'i-0bbbbbbbbbbbbbbb4'];
    now = at(59);
    await handler()(sqsEvent(sqsRecord(scheduledTick(at(59)))));
    expect(updates()).toHaveLength(1);

    now = at(60);
    await handler()(sqsEvent(sqsRecord(scheduledTick(at(60)))));

    expect(updates().at(-1)?.MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity).toBe(0);
    expect(logs.filter((l) => l.event === 'spot-fallback-returned')).toEqual([expect.objectContaining({ fallbackMinutes: 60 })]);
    expect(metrics.map((m) => JSON.parse(m))).toEqual([
      {
        _aws: {
          Timestamp: at(60).getTime(),
          CloudWatchMetrics: [
            { Namespace: 'GitLabRunnerFleet', Dimensions: [['Fleet']], Metrics: [{ Name: 'SpotFallbackMinutes', Unit: 'Count' }] },
          ],
        },
        Fleet: FLEET,
        SpotFallbackMinutes: 60,
      },
    ]);
  });

  it('ignores launch failures of groups that are not spot fleet groups, without calling AWS', async () => {
    const result = await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0), { group: OTHER_GROUP }))));

    expect(result.batchItemFailures).toEqual([]);
    expect(asgMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('counts only launching and in-service instances, and spot ones as spot', async () => {
    group.leaving = ['i-0bbbbbbbbbbbbbbb2'];

    await handler()(sqsEvent(sqsRecord(launchUnsuccessful(at(0)))));

    // 4 desired - 1 spot = 3: the spot instance in Terminating:Wait counts for nothing
    expect(updates()[0].MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity).toBe(3);
  });

  it('reports the record as a batch item failure when Auto Scaling fails, and handles the rest of the batch', async () => {
    asgMock.on(UpdateAutoScalingGroupCommand).rejectsOnce(new Error('Throttling'));
    const failing = sqsRecord(launchUnsuccessful(at(0)));
    const ignored = sqsRecord({ 'detail-type': 'something else', time: at(0).toISOString() });

    const result = await handler()(sqsEvent(failing, ignored));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: failing.messageId }]);
    expect(logs.find((l) => l.outcome === 'failed')).toMatchObject({ error: 'Error: Throttling' });
  });

  it('leaves a body that is not JSON to the dead-letter queue', async () => {
    const record = sqsRecord('{not json');

    expect((await handler()(sqsEvent(record))).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  function describeGroup(g: FakeGroup): AutoScalingGroup {
    const instances = [
      ...g.spot.map((id) => ({ InstanceId: id, LifecycleState: 'InService' })),
      ...g.onDemand.map((id) => ({ InstanceId: id, LifecycleState: 'Pending' })),
      ...g.leaving.map((id) => ({ InstanceId: id, LifecycleState: 'Terminating:Wait' })),
    ];
    return {
      AutoScalingGroupName: GROUP,
      MinSize: 0,
      MaxSize: g.max,
      DesiredCapacity: g.desired,
      DefaultCooldown: 300,
      AvailabilityZones: [],
      HealthCheckType: 'EC2',
      CreatedTime: T0,
      Instances: instances as AutoScalingGroup['Instances'],
      MixedInstancesPolicy: { InstancesDistribution: { OnDemandBaseCapacity: g.onDemandBase } },
      Tags:
        g.tag === undefined
          ? []
          : [{ Key: FALLBACK_STATE_TAG, Value: g.tag, ResourceId: GROUP, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false }],
    };
  }
});
