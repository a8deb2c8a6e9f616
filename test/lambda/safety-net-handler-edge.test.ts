import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { GitLabRunnerClient } from '../../lib/gitlab';
import {
  completeLifecycleAction,
  createSafetyNetHandler,
  describeInstance,
  handler,
  type SafetyNetDeps,
} from '../../lib/lambda/safety-net/handler';
import { runtimeClients } from '../../lib/lambda/shared/runtime';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, LOOPBACK_TIMEOUT_MS } from '../support/fake-gitlab';
import { FLEET, GROUP, spotInterruption, sqsEvent, sqsRecord, terminateLifecycleAction, terminateSuccessful, TOKEN_SECRET } from './events';

// The Lambda entry point builds its clients from the config beside the bundle; here they come from the test.
vi.mock('../../lib/lambda/shared/runtime', () => ({ runtimeClients: vi.fn() }));

const INSTANCE = 'i-0123456789abcdef0';

describe('safety net Lambda entry point', () => {
  let gitlab: FakeGitLab;
  let token: string;
  let output: string[];
  const { ec2, autoScaling, secrets, ec2Mock, asgMock, secretsMock, resetAwsMocks } = mockedAwsClients();

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    token = fakeRunnerToken('edge');
    gitlab.addManager(gitlab.addRunner(token), systemIdForInstance(INSTANCE));
    resetAwsMocks();
    secretsMock.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).resolves({ SecretString: token });
    asgMock.on(CompleteLifecycleActionCommand).resolves({});
    output = [];
    const capture = (...args: unknown[]) => void output.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
    // The entry point keeps its clients for the life of the container (this module); they delegate to this test's GitLab.
    const live: SafetyNetDeps = {
      get config() {
        return { gitlabUrl: gitlab.url, fleets: [{ name: FLEET, autoScalingGroupName: GROUP, tokenSecretName: TOKEN_SECRET }] };
      },
      autoScaling,
      ec2,
      get gitlab() {
        return new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} });
      },
      tokens: () => new SecretsManagerTokens(secrets),
    };
    vi.mocked(runtimeClients).mockImplementation(() => live);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gitlab.stop();
  });

  const logged = () => output.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('acknowledges an event of an unknown detail-type without calling EC2 or GitLab', async () => {
    // GIVEN an EventBridge event the rule should not have sent
    const record = sqsRecord({ 'detail-type': 'EC2 Instance Launch Successful', source: 'aws.autoscaling', detail: {} });
    // WHEN the handler gets it
    const result = await handler(sqsEvent(record));
    // THEN it is not retried, and the log says why it was ignored
    expect(result.batchItemFailures).toEqual([]);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(gitlab.requests).toHaveLength(0);
    expect(logged()).toEqual([
      expect.objectContaining({
        messageId: record.messageId,
        outcome: 'ignored',
        message: 'detail-type "EC2 Instance Launch Successful" is not handled',
      }),
    ]);
  });

  it('acknowledges a JSON body that is not an event object', async () => {
    const result = await handler(sqsEvent(sqsRecord('[1,2,3]')));
    expect(result.batchItemFailures).toEqual([]);
    expect(logged()[0]).toMatchObject({ outcome: 'ignored', message: 'event is not a JSON object' });
  });

  it('leaves a body that is not JSON for the dead-letter queue', async () => {
    const record = sqsRecord('{"detail-type": "EC2 Instance Terminate');
    const result = await handler(sqsEvent(record));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(logged()[0]).toMatchObject({ level: 'error', outcome: 'failed' });
  });

  it('counts a record without a receive count as its first delivery, so a running spot instance is waited for', async () => {
    // GIVEN a spot warning for a running fleet instance, delivered without SQS attributes
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [{ InstanceId: INSTANCE, State: { Name: 'running' }, Tags: [{ Key: 'aws:autoscaling:groupName', Value: GROUP }] }] },
      ],
    });
    const record = { ...sqsRecord(spotInterruption(INSTANCE)), attributes: undefined } as unknown as ReturnType<typeof sqsRecord>;
    // WHEN / THEN it is retried later rather than given up on
    const result = await handler(sqsEvent(record));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(logged()[0]).toMatchObject({ receiveCount: 1, outcome: 'wait-for-termination' });
  });

  it('counts an unreadable receive count as the first delivery', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [{ InstanceId: INSTANCE, State: { Name: 'running' }, Tags: [{ Key: 'aws:autoscaling:groupName', Value: GROUP }] }] },
      ],
    });
    const record = sqsRecord(spotInterruption(INSTANCE));
    const result = await handler(sqsEvent({ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: 'many' } }));
    expect(result.batchItemFailures).toHaveLength(1);
    expect(logged()[0]).toMatchObject({ receiveCount: 1 });
  });

  it('retries a record when EC2 cannot be asked, without completing anything', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    const record = sqsRecord(terminateLifecycleAction(INSTANCE));
    const result = await handler(sqsEvent(record));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(logged()[0]).toMatchObject({ outcome: 'failed', error: 'RequestLimitExceeded: Rate exceeded' });
  });

  it('logs through the logger given in its dependencies', async () => {
    const lines: string[] = [];
    const live = vi.mocked(runtimeClients).getMockImplementation()!('', 0) as SafetyNetDeps;
    const withLogger = createSafetyNetHandler(() => ({ ...live, logger: () => (_level, message) => void lines.push(message) }));

    await withLogger(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(lines).toEqual(['handled']);
    expect(output).toEqual([]);
  });

  it('builds its clients once per container, with a 5 second GitLab timeout', async () => {
    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));
    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));
    expect(vi.mocked(runtimeClients)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(runtimeClients).mock.calls[0][1]).toBe(5000);
  });
});

describe('describeInstance', () => {
  const ec2 = new EC2Client({ region: 'eu-central-1' });
  const ec2Mock = mockClient(ec2);
  beforeEach(() => ec2Mock.reset());

  it('reads the state and group tag of the instance', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [{ InstanceId: INSTANCE, State: { Name: 'stopping' }, Tags: [{ Key: 'aws:autoscaling:groupName', Value: GROUP }] }] },
      ],
    });
    expect(await describeInstance(ec2, INSTANCE)).toEqual({ state: 'stopping', groupName: GROUP });
  });

  it('reports not-found when EC2 answers without reservations', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({});
    expect(await describeInstance(ec2, INSTANCE)).toEqual({ state: 'not-found' });
  });

  it('reports not-found when the answer holds only other instances', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{}, { Instances: [{ InstanceId: 'i-0ffffffffffffffff', State: { Name: 'running' } }] }] });
    expect(await describeInstance(ec2, INSTANCE)).toEqual({ state: 'not-found' });
  });

  it('reports not-found for an instance without a state, and no group for one without tags', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE }] }] });
    expect(await describeInstance(ec2, INSTANCE)).toEqual({ state: 'not-found', groupName: undefined });
  });

  it('reports not-found when EC2 no longer knows the id', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(Object.assign(new Error('does not exist'), { name: 'InvalidInstanceID.NotFound' }));
    expect(await describeInstance(ec2, INSTANCE)).toEqual({ state: 'not-found' });
  });

  it('passes other EC2 errors on', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    await expect(describeInstance(ec2, INSTANCE)).rejects.toThrow('denied');
  });
});

describe('completeLifecycleAction', () => {
  const autoScaling = new AutoScalingClient({ region: 'eu-central-1' });
  const asgMock = mockClient(autoScaling);
  const action = { groupName: GROUP, hookName: 'hook', instanceId: INSTANCE, lifecycleActionToken: 'tok' };
  beforeEach(() => asgMock.reset());

  it('completes with CONTINUE for the given group, hook, instance and token', async () => {
    asgMock.on(CompleteLifecycleActionCommand).resolves({});
    expect(await completeLifecycleAction(autoScaling, action)).toBe('completed');
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: GROUP,
      LifecycleHookName: 'hook',
      InstanceId: INSTANCE,
      LifecycleActionToken: 'tok',
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('passes on a validation error that is not about a missing action', async () => {
    asgMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('Unable to find hook'), { name: 'ValidationError' }));
    await expect(completeLifecycleAction(autoScaling, action)).rejects.toThrow('Unable to find hook');
  });

  it('passes on a validation error without a message', async () => {
    asgMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error(), { name: 'ValidationError', message: undefined }));
    await expect(completeLifecycleAction(autoScaling, action)).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
