import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';
import { createScalerHandler } from '../../lib/lambda/demand-scaler/handler';
import { createWebhookHandler } from '../../lib/lambda/demand-webhook/handler';
import { mockedAwsClients } from '../support/aws-mocks';
import { startFunctionUrl } from '../support/function-url';
import { DEMAND_CONFIG, jobEvent, webhookToken } from './demand-fixtures';
import { sqsRecord } from './events';
import { GitLabRunnerClient } from '../../lib/gitlab/client';
import { listPendingJobs } from '../../lib/gitlab/pending-jobs';
import { FakeGitLab } from '../support/fake-gitlab';

describe('a burst of 1,000 job events', () => {
  it('becomes a bounded number of scaling calls', async () => {
    // GIVEN the webhook behind a function URL and the scaler behind its queue (batches of 100)
    const { autoScaling, ec2, secrets, asgMock, ec2Mock, secretsMock } = mockedAwsClients();
    const sqs = new SQSClient({ region: 'eu-central-1' });
    const sqsMock = mockClient(sqs);
    const token = webhookToken();
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: token });
    sqsMock.on(SendMessageCommand).resolves({});
    let desired = 0;
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({
      AutoScalingGroups: [
        { AutoScalingGroupName: autoScalingGroupName('graviton-spot'), DesiredCapacity: desired, MinSize: 0, MaxSize: 10, Instances: [] },
      ],
    }));
    asgMock.on(SetDesiredCapacityCommand).callsFake((input: { DesiredCapacity: number }) => {
      desired = input.DesiredCapacity;
      return {};
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const server = await startFunctionUrl(
      createWebhookHandler(() => ({ config: DEMAND_CONFIG, sqs, secrets, queueUrl: 'q', logger: () => {}, metrics: () => {} })),
    );
    const scaler = createScalerHandler(() => ({
      config: DEMAND_CONFIG,
      autoScaling,
      ec2,
      now: () => Date.UTC(2026, 10, 30, 19),
      logger: () => {},
      metrics: () => {},
    }));

    // WHEN 500 jobs each send pending and running, half of them twice
    const events = Array.from({ length: 1000 }, (_v, i) =>
      jobEvent(5000 + (i % 500), i < 500 ? 'pending' : 'running', ['computetype-spot']),
    );
    try {
      for (let i = 0; i < events.length; i += 50) {
        await Promise.all(
          events.slice(i, i + 50).map((event) =>
            fetch(server.url, {
              method: 'POST',
              headers: { 'x-gitlab-event': 'Job Hook', 'x-gitlab-token': token, 'content-type': 'application/json' },
              body: JSON.stringify(event),
            }),
          ),
        );
      }
    } finally {
      await server.stop();
    }
    const bodies = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody!);
    for (let i = 0; i < bodies.length; i += 100) await scaler({ Records: bodies.slice(i, i + 100).map((b) => sqsRecord(b)) });

    // THEN one secret read, one queue message per event, and per scaler batch one describe and at most one scaling call
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(bodies).toHaveLength(1000);
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(10);
    expect(asgMock.commandCalls(SetDesiredCapacityCommand).length).toBeLessThanOrEqual(2);
    expect(desired).toBe(10);
  }, 60_000);

  it('of pending jobs without tags (the documented payload) becomes one GitLab poll per scaler batch, and still bounded scaling calls', async () => {
    // GIVEN the webhook and scaler with the poll fallback, and GitLab listing 40 pending spot jobs
    const { autoScaling, ec2, secrets, asgMock, ec2Mock, secretsMock } = mockedAwsClients();
    const sqs = new SQSClient({ region: 'eu-central-1' });
    const sqsMock = mockClient(sqs);
    const token = webhookToken();
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: token });
    sqsMock.on(SendMessageCommand).resolves({});
    let desired = 0;
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({
      AutoScalingGroups: [
        { AutoScalingGroupName: autoScalingGroupName('graviton-spot'), DesiredCapacity: desired, MinSize: 0, MaxSize: 10, Instances: [] },
      ],
    }));
    asgMock.on(SetDesiredCapacityCommand).callsFake((input: { DesiredCapacity: number }) => {
      desired = input.DesiredCapacity;
      return {};
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const gitlab = new FakeGitLab();
    await gitlab.start();
    const apiToken = ['glpat', 'burst'.padEnd(20, 'y')].join('-');
    gitlab.allowApiToken(apiToken);
    for (let i = 0; i < 40; i++) gitlab.addJob(3, 7000 + i, ['computetype-spot', 'arm64']);
    const config = { ...DEMAND_CONFIG, poll: { apiTokenSecretName: 'ci/poll-token', projectIds: [3], onTick: true } };
    const client = new GitLabRunnerClient({ baseUrl: gitlab.url, sleep: async () => {} });
    const server = await startFunctionUrl(
      createWebhookHandler(() => ({ config, sqs, secrets, queueUrl: 'q', logger: () => {}, metrics: () => {} })),
    );
    const scaler = createScalerHandler(() => ({
      config,
      autoScaling,
      ec2,
      now: () => Date.UTC(2026, 10, 30, 19),
      logger: () => {},
      metrics: () => {},
      poll: () => listPendingJobs(client, apiToken, [3]),
    }));

    // WHEN 1,000 pending events arrive with no build_tags and no runner yet
    const events = Array.from({ length: 1000 }, (_v, i) => ({
      ...jobEvent(7000 + (i % 40), 'pending', []),
      build_tags: undefined,
      runner: null,
    }));
    try {
      for (let i = 0; i < events.length; i += 50) {
        await Promise.all(
          events.slice(i, i + 50).map((event) =>
            fetch(server.url, {
              method: 'POST',
              headers: { 'x-gitlab-event': 'Job Hook', 'x-gitlab-token': token, 'content-type': 'application/json' },
              body: JSON.stringify(event),
            }),
          ),
        );
      }
      const bodies = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody!);
      for (let i = 0; i < bodies.length; i += 100) await scaler({ Records: bodies.slice(i, i + 100).map((b) => sqsRecord(b)) });

      // THEN ten batches make ten polls (one page each), ten describes, and at most two scaling calls
      expect(bodies).toHaveLength(1000);
      expect(gitlab.requests.filter((r) => r.path.startsWith('/api/v4/projects/3/jobs'))).toHaveLength(10);
      expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(10);
      expect(asgMock.commandCalls(SetDesiredCapacityCommand).length).toBeLessThanOrEqual(2);
      expect(desired).toBe(4);
    } finally {
      await server.stop();
      await gitlab.stop();
    }
  }, 60_000);
});
