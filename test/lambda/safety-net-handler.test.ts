import { CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { createSafetyNetHandler } from '../../lib/lambda/safety-net/handler';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner, HANG_TIMEOUT_MS } from '../support/fake-gitlab';
import { FLEET, GROUP, spotInterruption, sqsEvent, sqsRecord, terminateLifecycleAction, terminateSuccessful, TOKEN_SECRET } from './events';

const INSTANCE = 'i-0123456789abcdef0';
const SYSTEM_ID = systemIdForInstance(INSTANCE);

function instanceState(state: string, group = GROUP) {
  return {
    Reservations: [
      {
        Instances: [
          { InstanceId: INSTANCE, State: { Name: state as 'running' }, Tags: [{ Key: 'aws:autoscaling:groupName', Value: group }] },
        ],
      },
    ],
  };
}

function noActionError(): Error {
  return Object.assign(new Error(`No active Lifecycle Action found with instance ID ${INSTANCE}`), { name: 'ValidationError' });
}

describe('safety net handler', () => {
  let gitlab: FakeGitLab;
  let runner: FakeRunner;
  let token: string;
  let output: string[];
  const { ec2, autoScaling, secrets, ec2Mock, asgMock, secretsMock, resetAwsMocks } = mockedAwsClients();
  let handler: ReturnType<typeof createSafetyNetHandler>;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    token = fakeRunnerToken('safetynet');
    runner = gitlab.addRunner(token);
    gitlab.addManager(runner, SYSTEM_ID);
    resetAwsMocks();
    secretsMock.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).resolves({ SecretString: token });
    asgMock.on(CompleteLifecycleActionCommand).resolves({});
    output = [];
    const capture = (...args: unknown[]) => void output.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
    vi.spyOn(console, 'warn').mockImplementation(capture);
    const client = new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: HANG_TIMEOUT_MS, maxAttempts: 3, sleep: async () => {} });
    handler = createSafetyNetHandler(() => ({
      config: { gitlabUrl: gitlab.url, fleets: [{ name: FLEET, autoScalingGroupName: GROUP, tokenSecretName: TOKEN_SECRET }] },
      autoScaling,
      ec2,
      gitlab: client,
      tokens: () => new SecretsManagerTokens(secrets),
    }));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gitlab.stop();
  });

  it('deletes the runner manager of a terminated instance', async () => {
    const result = await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
  });

  it('deletes only that instance manager, never the whole runner', async () => {
    gitlab.addManager(runner, 's_aaaaaaaaaaaa');

    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(gitlab.managerSystemIds(runner)).toEqual(['s_aaaaaaaaaaaa']);
    expect(gitlab.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/v4/runners')).toEqual([]);
  });

  it('succeeds for duplicate events in one batch and across invocations', async () => {
    const first = await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE)), sqsRecord(terminateSuccessful(INSTANCE))));
    const again = await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    expect(gitlab.requests.map((r) => r.status).sort()).toEqual([204, 404, 404]);
  });

  it('succeeds when the drain agent already deleted the manager', async () => {
    runner.managers.length = 0;

    const result = await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(output.join('\n')).toContain('"manager":"already-gone"');
  });

  it('retries a GitLab 500 within the invocation and succeeds', async () => {
    gitlab.inject({ kind: 'status', status: 500, times: 1 });

    const result = await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
  });

  it('reports the record as a batch item failure when GitLab resets every connection', async () => {
    gitlab.inject({ kind: 'reset', times: 100 });
    const record = sqsRecord(terminateSuccessful(INSTANCE));

    const result = await handler(sqsEvent(record));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it('counts a failed deletion as DeregistrationFailures of the fleet (EMF), and no failure when the deletion works', async () => {
    gitlab.inject({ kind: 'reset', times: 100 });

    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));
    const failures = output.filter((line) => line.includes('"DeregistrationFailures"')).map((line) => JSON.parse(line));

    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      Fleet: FLEET,
      DeregistrationFailures: 1,
      _aws: { CloudWatchMetrics: [{ Namespace: 'GitLabRunnerFleet', Dimensions: [['Fleet']] }] },
    });
  });

  it('counts no deregistration failure when the manager is deleted', async () => {
    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(output.some((line) => line.includes('DeregistrationFailures'))).toBe(false);
  });

  it('reports the record as a batch item failure when GitLab hangs past the client timeout', async () => {
    gitlab.inject({ kind: 'hang', times: 100 });
    const record = sqsRecord(terminateSuccessful(INSTANCE));

    const result = await handler(sqsEvent(record));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(gitlab.requests).toHaveLength(3);
  }, 20_000); // three attempts of HANG_TIMEOUT_MS each

  it('fails only the record that failed in a mixed batch', async () => {
    const good = sqsRecord(terminateSuccessful(INSTANCE));
    const bad = sqsRecord('{not json');

    const result = await handler(sqsEvent(good, bad));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
  });

  it('completes the lifecycle action with CONTINUE after deleting the manager when the instance is gone', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));

    const result = await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE, { token: 'lc-token' }))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: GROUP,
      LifecycleHookName: 'gitlab-runner-fleet-drained',
      InstanceId: INSTANCE,
      LifecycleActionToken: 'lc-token',
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('treats an instance EC2 no longer knows as gone', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(Object.assign(new Error('does not exist'), { name: 'InvalidInstanceID.NotFound' }));

    const result = await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
  });

  it('leaves a running instance to its drain agent: no deletion, no completion', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('running'));

    const result = await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([SYSTEM_ID]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
  });

  it('succeeds when the lifecycle action was already completed', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));
    asgMock.on(CompleteLifecycleActionCommand).rejects(noActionError());

    const result = await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(output.join('\n')).toContain('"lifecycle":"already-completed"');
  });

  it('handles a lifecycle action that arrives after the termination it announced', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));
    asgMock.on(CompleteLifecycleActionCommand).rejects(noActionError());
    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    const late = await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE))));

    expect(late.batchItemFailures).toEqual([]);
  });

  it('retries the record when completing the lifecycle action fails for another reason', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));
    asgMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const record = sqsRecord(terminateLifecycleAction(INSTANCE));

    const result = await handler(sqsEvent(record));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it('still completes the lifecycle action of a dead instance while GitLab is down, and retries the deletion', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));
    gitlab.inject({ kind: 'status', status: 503, times: 100 });
    const record = sqsRecord(terminateLifecycleAction(INSTANCE));

    const result = await handler(sqsEvent(record));

    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it('retries the record when the token secret cannot be read, and still completes the action of a dead instance', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));
    secretsMock.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const record = sqsRecord(terminateLifecycleAction(INSTANCE));

    const result = await handler(sqsEvent(record));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(gitlab.requests).toEqual([]);
  });

  it('waits while a spot instance still runs out its notice', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('running'));
    const record = sqsRecord(spotInterruption(INSTANCE));

    const result = await handler(sqsEvent(record));

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(gitlab.requests).toEqual([]);
  });

  it('deletes the manager of a spot instance once it is terminated', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));

    const result = await handler(sqsEvent(sqsRecord(spotInterruption(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
  });

  it('ignores spot notices for instances outside the fleets without calling GitLab', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated', 'web-servers'));

    const result = await handler(sqsEvent(sqsRecord(spotInterruption(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.requests).toEqual([]);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('reads each token secret once per invocation', async () => {
    const other = 'i-0fedcba9876543210';

    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE)), sqsRecord(terminateSuccessful(other))));

    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('logs one JSON line per record with instance, fleet, system_id and outcome', async () => {
    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    const line = JSON.parse(output.find((l) => l.includes('"outcome"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ instanceId: INSTANCE, fleet: FLEET, systemId: SYSTEM_ID, outcome: 'cleaned-up' });
  });

  it('never writes the token to the logs, in success or failure', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(instanceState('terminated'));
    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));
    gitlab.inject({ kind: 'status', status: 500, times: 100 });
    await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE)), sqsRecord(terminateSuccessful(INSTANCE))));

    expect(output.length).toBeGreaterThanOrEqual(3);
    expect(output.join('\n')).not.toContain(token);
  });
});
