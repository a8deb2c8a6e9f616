import {
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { BUSY_TAGS } from '../../lib/identity/demand-metrics';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';
import { createScalerHandler } from '../../lib/lambda/demand-scaler/handler';
import { queuedJobsByFleet } from '../../lib/lambda/demand-scaler/core';
import { mockedAwsClients } from '../support/aws-mocks';
import { DEMAND_CONFIG } from './demand-fixtures';
import { GitLabRunnerClient } from '../../lib/gitlab/client';
import { listPendingJobs } from '../../lib/gitlab/pending-jobs';
import { FakeGitLab } from '../support/fake-gitlab';
import { sqsRecord } from './events';

const SPOT_GROUP = autoScalingGroupName('graviton-spot');
const ONDEMAND_GROUP = autoScalingGroupName('graviton-ondemand');
/** Monday 2026-11-30 20:00 in Berlin (19:00 UTC): outside the 08:00-18:00 window. */
const MONDAY_EVENING = Date.UTC(2026, 10, 30, 19, 0);
/** Tuesday 2026-12-01 11:00 in Berlin: inside the window. */
const TUESDAY_MORNING = Date.UTC(2026, 11, 1, 10, 0);

type Instance = { id: string; state: string; busy?: number; idleSince?: number };

function signal(fleet: string, jobId: number, status: string, rank: number) {
  return sqsRecord({ fleet, jobId, status, rank });
}

describe('demand scaler', () => {
  const { autoScaling, ec2, asgMock, ec2Mock, resetAwsMocks } = mockedAwsClients();
  let metrics: Array<Record<string, unknown>>;
  let now: number;

  function groups(spot: { desired: number; instances: Instance[] }, ondemand = { desired: 0, instances: [] as Instance[] }) {
    const toAsg = (name: string, g: { desired: number; instances: Instance[] }) => ({
      AutoScalingGroupName: name,
      DesiredCapacity: g.desired,
      MinSize: 0,
      MaxSize: 10,
      DefaultCooldown: 300,
      AvailabilityZones: ['eu-central-1a'],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
      Instances: g.instances.map((i) => ({
        InstanceId: i.id,
        LifecycleState: i.state as 'InService',
        AvailabilityZone: 'eu-central-1a',
        HealthStatus: 'Healthy',
        ProtectedFromScaleIn: false,
      })),
    });
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [toAsg(SPOT_GROUP, spot), toAsg(ONDEMAND_GROUP, ondemand)] });
    const tagged = [...spot.instances, ...ondemand.instances].map((i) => ({
      InstanceId: i.id,
      Tags: [
        ...(i.busy === undefined ? [] : [{ Key: BUSY_TAGS.busySlots, Value: String(i.busy) }]),
        ...(i.idleSince === undefined ? [] : [{ Key: BUSY_TAGS.idleSince, Value: String(i.idleSince) }]),
      ],
    }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: tagged }] });
  }

  const handler = () =>
    createScalerHandler(() => ({
      config: DEMAND_CONFIG,
      autoScaling,
      ec2,
      now: () => now,
      logger: () => {},
      metrics: (record) => metrics.push(record),
    }));

  beforeEach(() => {
    resetAwsMocks();
    asgMock.on(SetDesiredCapacityCommand).resolves({});
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    metrics = [];
    now = MONDAY_EVENING;
  });

  it('a burst at 20:00 on a spot fleet with zero instances sets the desired capacity it needs', async () => {
    groups({ desired: 0, instances: [] });
    const event: SQSEvent = { Records: Array.from({ length: 25 }, (_v, i) => signal('graviton-spot', 1000 + i, 'pending', 1)) };

    const result = await handler()(event);

    expect(result.batchItemFailures).toEqual([]);
    expect(asgMock.commandCalls(SetDesiredCapacityCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: SPOT_GROUP, DesiredCapacity: 3, HonorCooldown: false },
    ]);
  });

  it('an on-demand fleet without scaleFromZero stays at its min outside the window', async () => {
    groups({ desired: 0, instances: [] });

    await handler()({ Records: [signal('graviton-ondemand', 1, 'pending', 1)] });

    expect(asgMock.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);
    expect(metrics).toEqual([expect.objectContaining({ Fleet: 'graviton-ondemand', QueuedJobs: 1, DesiredCapacity: 0 })]);
  });

  it('counts a duplicate pending once and a pending delivered after running not at all', async () => {
    groups({ desired: 0, instances: [] });
    const records = [
      signal('graviton-spot', 1, 'pending', 1),
      signal('graviton-spot', 1, 'pending', 1),
      signal('graviton-spot', 2, 'running', 2),
      signal('graviton-spot', 2, 'pending', 1),
    ];

    await handler()({ Records: records });

    expect(metrics[0]).toMatchObject({ Fleet: 'graviton-spot', QueuedJobs: 1 });
    expect(asgMock.commandCalls(SetDesiredCapacityCommand)[0].args[0].input.DesiredCapacity).toBe(1);
  });

  it('on its schedule, removes an idle instance by id and never the busy one', async () => {
    now = TUESDAY_MORNING;
    const longAgo = Math.floor(now / 1000) - 3600;
    groups({
      desired: 3,
      instances: [
        // 8 busy slots at the 70% target need 2 instances of 10
        { id: 'i-0000000000000busy', state: 'InService', busy: 8 },
        { id: 'i-00000000000idle01', state: 'InService', busy: 0, idleSince: longAgo },
        { id: 'i-00000000000idle02', state: 'InService', busy: 0, idleSince: longAgo + 60 },
      ],
    });

    await handler()({ 'detail-type': 'Scheduled Event' });

    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: 'i-00000000000idle01', ShouldDecrementDesiredCapacity: true },
    ]);
    expect(asgMock.commandCalls(SetDesiredCapacityCommand).filter((c) => c.args[0].input.AutoScalingGroupName === SPOT_GROUP)).toHaveLength(
      0,
    );
  });

  it('leaves an instance that has not reported its busy slots alone', async () => {
    now = TUESDAY_MORNING;
    groups({
      desired: 2,
      instances: [
        { id: 'i-0000000000silent1', state: 'InService' },
        { id: 'i-0000000000silent2', state: 'InService' },
      ],
    });

    await handler()({ 'detail-type': 'Scheduled Event' });

    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0);
    expect(asgMock.commandCalls(SetDesiredCapacityCommand).filter((c) => c.args[0].input.AutoScalingGroupName === SPOT_GROUP)).toHaveLength(
      0,
    );
  });

  it('brings a fleet up to its warm floor in working hours', async () => {
    now = TUESDAY_MORNING;
    groups({ desired: 1, instances: [{ id: 'i-00000000000000001', state: 'InService', busy: 0 }] }, { desired: 0, instances: [] });

    await handler()({ 'detail-type': 'Scheduled Event' });

    expect(asgMock.commandCalls(SetDesiredCapacityCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: ONDEMAND_GROUP, DesiredCapacity: 1, HonorCooldown: false },
    ]);
  });

  it('reports the fleet records for retry when a scaling call fails', async () => {
    groups({ desired: 0, instances: [] });
    asgMock.on(SetDesiredCapacityCommand).rejects(new Error('Throttling'));
    const record = signal('graviton-spot', 9, 'pending', 1);

    const result = await handler()({ Records: [record, signal('graviton-ondemand', 10, 'pending', 1)] });

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(metrics.find((m) => m.Fleet === 'graviton-spot')).toMatchObject({ ScalingErrors: 1 });
  });

  it('drops a message that is not a job signal without failing the batch', async () => {
    groups({ desired: 0, instances: [] });

    const result = await handler()({ Records: [sqsRecord('not json')] });

    expect(result.batchItemFailures).toEqual([]);
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(0);
  });
});

describe('demand scaler with the poll fallback', () => {
  const { autoScaling, ec2, asgMock, ec2Mock, resetAwsMocks } = mockedAwsClients();

  beforeEach(() => {
    resetAwsMocks();
    asgMock.on(SetDesiredCapacityCommand).resolves({});
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: SPOT_GROUP,
          DesiredCapacity: 0,
          MinSize: 0,
          MaxSize: 10,
          DefaultCooldown: 300,
          AvailabilityZones: ['eu-central-1a'],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(0),
          Instances: [],
        },
      ],
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  });

  it('on a tick, counts GitLab pending jobs polled from the fake GitLab for the fleet their tags match', async () => {
    const gitlab = new FakeGitLab();
    await gitlab.start();
    try {
      const token = ['glpat', 'poller'.padEnd(20, 'x')].join('-');
      gitlab.allowApiToken(token);
      for (let i = 0; i < 150; i++) gitlab.addJob(7, i + 1, i < 25 ? ['computetype-spot', 'arm64'] : ['gpu']);
      const client = new GitLabRunnerClient({ baseUrl: gitlab.url, sleep: async () => {} });
      const handler = createScalerHandler(() => ({
        config: DEMAND_CONFIG,
        autoScaling,
        ec2,
        now: () => MONDAY_EVENING,
        logger: () => {},
        metrics: () => {},
        poll: () => listPendingJobs(client, token, [7]),
      }));

      await handler({ 'detail-type': 'Scheduled Event' });

      expect(asgMock.commandCalls(SetDesiredCapacityCommand).map((c) => c.args[0].input)).toEqual([
        { AutoScalingGroupName: SPOT_GROUP, DesiredCapacity: 3, HonorCooldown: false },
      ]);
    } finally {
      await gitlab.stop();
    }
  });

  it('polls GitLab once for a batch of pending jobs whose events named no tags, and scales the fleet their tag_list matches', async () => {
    const gitlab = new FakeGitLab();
    await gitlab.start();
    try {
      const token = ['glpat', 'poller'.padEnd(20, 'x')].join('-');
      gitlab.allowApiToken(token);
      for (let i = 0; i < 25; i++) gitlab.addJob(7, i + 1, ['computetype-spot', 'arm64']);
      const client = new GitLabRunnerClient({ baseUrl: gitlab.url, sleep: async () => {} });
      let polls = 0;
      const handler = createScalerHandler(() => ({
        config: { ...DEMAND_CONFIG, poll: { apiTokenSecretName: 'ci/poll-token', projectIds: [7], onTick: true } },
        autoScaling,
        ec2,
        now: () => MONDAY_EVENING,
        logger: () => {},
        metrics: () => {},
        poll: () => {
          polls += 1;
          return listPendingJobs(client, token, [7]);
        },
      }));

      const result = await handler({ Records: Array.from({ length: 25 }, (_v, i) => signal('', i + 1, 'pending', 1)) });

      expect(result.batchItemFailures).toEqual([]);
      expect(polls).toBe(1);
      expect(asgMock.commandCalls(SetDesiredCapacityCommand).map((c) => c.args[0].input)).toEqual([
        { AutoScalingGroupName: SPOT_GROUP, DesiredCapacity: 3, HonorCooldown: false },
      ]);
    } finally {
      await gitlab.stop();
    }
  });

  it('polls only the projects the tagless events came from, not the configured ones', async () => {
    const asked: Array<readonly number[] | undefined> = [];
    const handler = createScalerHandler(() => ({
      config: { ...DEMAND_CONFIG, poll: { apiTokenSecretName: 'ci/poll-token', projectIds: [], onTick: false } },
      autoScaling,
      ec2,
      now: () => MONDAY_EVENING,
      logger: () => {},
      metrics: () => {},
      poll: async (projectIds) => {
        asked.push(projectIds);
        return [{ id: 1, tagList: ['computetype-spot'] }];
      },
      pollOnTick: false,
    }));
    const fromProject = (jobId: number, projectId: number) => sqsRecord({ fleet: '', jobId, status: 'pending', rank: 1, projectId });

    await handler({ Records: [fromProject(1, 12), fromProject(2, 12), fromProject(3, 40)] });

    expect(asked).toEqual([[12, 40]]);
  });

  it('given pollOnTick false, a scheduled tick does not poll (webhook setups whose token cannot read the instance)', async () => {
    let polls = 0;
    const handler = createScalerHandler(() => ({
      config: DEMAND_CONFIG,
      autoScaling,
      ec2,
      now: () => MONDAY_EVENING,
      logger: () => {},
      metrics: () => {},
      poll: async () => {
        polls += 1;
        return [];
      },
      pollOnTick: false,
    }));

    await handler({ 'detail-type': 'Scheduled Event' });

    expect(polls).toBe(0);
  });

  it('given the poll on ticks (the default), a scheduled tick polls the configured projects', async () => {
    const asked: Array<readonly number[] | undefined> = [];
    const handler = createScalerHandler(() => ({
      config: DEMAND_CONFIG,
      autoScaling,
      ec2,
      now: () => MONDAY_EVENING,
      logger: () => {},
      metrics: () => {},
      poll: async (projectIds) => {
        asked.push(projectIds);
        return [];
      },
    }));

    await handler({ 'detail-type': 'Scheduled Event' });

    expect(asked).toEqual([undefined]);
  });

  it('does not poll for a batch whose events all named their fleet, and never counts a job twice when it does', async () => {
    const metrics: Array<Record<string, unknown>> = [];
    let polls = 0;
    const pollingHandler = (records: SQSEvent['Records']) =>
      createScalerHandler(() => ({
        config: DEMAND_CONFIG,
        autoScaling,
        ec2,
        now: () => MONDAY_EVENING,
        logger: () => {},
        metrics: (record) => metrics.push(record),
        poll: async () => {
          polls += 1;
          // GitLab lists the batch's 12 tagged jobs too.
          return Array.from({ length: 12 }, (_v, i) => ({ id: 500 + i, tagList: ['computetype-spot'] }));
        },
      }))({ Records: records });

    await pollingHandler(Array.from({ length: 12 }, (_v, i) => signal('graviton-spot', 500 + i, 'pending', 1)));
    expect(polls).toBe(0);
    await pollingHandler([
      ...Array.from({ length: 12 }, (_v, i) => signal('graviton-spot', 500 + i, 'pending', 1)),
      signal('', 999, 'pending', 1),
    ]);

    expect(polls).toBe(1);
    expect(metrics.at(-1)).toMatchObject({ Fleet: 'graviton-spot', QueuedJobs: 12 });
  });

  it('still scales on the schedule when the poll fails', async () => {
    const logs: string[] = [];
    const handler = createScalerHandler(() => ({
      config: DEMAND_CONFIG,
      autoScaling,
      ec2,
      now: () => TUESDAY_MORNING,
      logger: (_level, message) => logs.push(message),
      metrics: () => {},
      poll: async () => {
        throw new Error('HTTP 503');
      },
    }));

    await handler({ 'detail-type': 'Scheduled Event' });

    expect(logs).toContain('could not poll pending jobs');
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(1);
  });
});

describe('queuedJobsByFleet', () => {
  it('folds each job to its furthest status, per fleet', () => {
    const queued = queuedJobsByFleet([
      { fleet: 'a', jobId: 1, status: 'success', rank: 3 },
      { fleet: 'a', jobId: 1, status: 'pending', rank: 1 },
      { fleet: 'a', jobId: 2, status: 'pending', rank: 1 },
      { fleet: 'b', jobId: 2, status: 'pending', rank: 1 },
    ]);
    expect(Object.fromEntries(queued)).toEqual({ a: 1, b: 1 });
  });
});
