/**
 * Jobs lost in the graceful-stop race (gitlab-runner work item 39847): after deregistering a
 * machine, the safety net cancels and retries, once, the jobs GitLab still shows running on it.
 * Real HTTP against the fake GitLab on loopback; Secrets Manager mocked.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { orphanedJobs } from '../../lib/lambda/safety-net/core';
import { createSafetyNetHandler } from '../../lib/lambda/safety-net/handler';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, LOOPBACK_TIMEOUT_MS, type FakeRunner } from '../support/fake-gitlab';
import { FLEET, GROUP, sqsEvent, sqsRecord, terminateSuccessful, TOKEN_SECRET } from './events';

const INSTANCE = 'i-0123456789abcdef0';
const SYSTEM_ID = systemIdForInstance(INSTANCE);
const API_SECRET = 'gitlab-runner-fleet/api-token';

describe('safety net: jobs orphaned by the graceful-stop race', () => {
  const { ec2, autoScaling, secrets, secretsMock, resetAwsMocks } = mockedAwsClients();
  let gitlab: FakeGitLab;
  let runner: FakeRunner;
  let apiToken: string;
  let logs: Array<Record<string, unknown>>;
  let metrics: string[];

  const handler = (apiTokenSecretName: string | null = API_SECRET) =>
    createSafetyNetHandler(() => ({
      config: {
        gitlabUrl: gitlab.url,
        fleets: [{ name: FLEET, autoScalingGroupName: GROUP, tokenSecretName: TOKEN_SECRET }],
        apiTokenSecretName: apiTokenSecretName ?? undefined,
      },
      autoScaling,
      ec2,
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} }),
      tokens: () => new SecretsManagerTokens(secrets),
      logger: () => (level, message, fields) => logs.push({ level, message, ...fields }),
      metrics: (line) => metrics.push(line),
    }));
  const jobCalls = () => gitlab.requests.filter((r) => /\/jobs/.test(r.path)).map((r) => `${r.method} ${r.path} ${r.status}`);

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    const token = fakeRunnerToken('orphaned');
    runner = gitlab.addRunner(token, { id: 7 });
    gitlab.addManager(runner, SYSTEM_ID);
    apiToken = ['glpat', 'safetynetjobsxxxxx'].join('-');
    resetAwsMocks();
    secretsMock.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).resolves({ SecretString: token });
    secretsMock.on(GetSecretValueCommand, { SecretId: API_SECRET }).resolves({ SecretString: apiToken });
    logs = [];
    metrics = [];
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  it('cancels, then retries once, each job still running on the deregistered machine, and leaves other machines alone', async () => {
    // GIVEN a job GitLab assigned to the stopping machine, and a job running on another machine
    gitlab.allowApiToken(apiToken, ['api']);
    const lost = gitlab.addJob(runner, SYSTEM_ID, { projectId: 42 });
    const elsewhere = gitlab.addJob(runner, 's_othermachine', { projectId: 42 });

    // WHEN the safety net handles the instance's termination
    const result = await handler()(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    // THEN the manager is deleted first, then the lost job is canceled and retried
    expect(result.batchItemFailures).toEqual([]);
    expect(jobCalls()).toEqual([
      'GET /api/v4/runners/7/jobs 200',
      `POST /api/v4/projects/42/jobs/${lost.id}/cancel 201`,
      `POST /api/v4/projects/42/jobs/${lost.id}/retry 201`,
    ]);
    const deleteAt = gitlab.requests.find((r) => r.method === 'DELETE')!.at;
    expect(gitlab.requests.filter((r) => /\/jobs/.test(r.path)).every((r) => r.at >= deleteAt)).toBe(true);
    expect(lost.status).toBe('canceled');
    expect(elsewhere.status).toBe('running');
    expect(gitlab.jobs.filter((j) => j.status === 'pending')).toHaveLength(1);
    expect(logs.find((l) => l.outcome === 'requeued')).toMatchObject({ jobId: lost.id, systemId: SYSTEM_ID });
    expect(JSON.parse(metrics[0])).toMatchObject({ Fleet: FLEET, OrphanedJobsRequeued: 1 });
  });

  it('asks GitLab for running jobs of that system_id only', async () => {
    gitlab.allowApiToken(apiToken, ['api']);

    await handler()(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(gitlab.requests.find((r) => r.path === '/api/v4/runners/7/jobs')!.fields).toMatchObject({
      status: 'running',
      system_id: SYSTEM_ID,
    });
  });

  it('touches no job of another machine when an older GitLab ignores the system_id filter', async () => {
    gitlab.allowApiToken(apiToken, ['api']);
    gitlab.ignoresSystemIdFilter = true;
    const elsewhere = gitlab.addJob(runner, 's_othermachine');

    await handler()(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(jobCalls()).toEqual(['GET /api/v4/runners/7/jobs 200']);
    expect(elsewhere.status).toBe('running');
  });

  it('retries a job only once when the event comes again', async () => {
    gitlab.allowApiToken(apiToken, ['api']);
    gitlab.addJob(runner, SYSTEM_ID);
    const event = terminateSuccessful(INSTANCE);

    await handler()(sqsEvent(sqsRecord(event)));
    await handler()(sqsEvent(sqsRecord(event)));

    expect(jobCalls().filter((c) => c.includes('/retry'))).toHaveLength(1);
  });

  it('without an API token, deletes the manager and calls no jobs endpoint', async () => {
    gitlab.addJob(runner, SYSTEM_ID);

    const result = await handler(null)(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
    expect(jobCalls()).toEqual([]);
  });

  it('with a read-only token, logs that the job fails at its timeout, and still counts the record as handled', async () => {
    gitlab.allowApiToken(apiToken, ['read_api']);
    const lost = gitlab.addJob(runner, SYSTEM_ID);

    const result = await handler()(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(lost.status).toBe('running');
    expect(logs.find((l) => l.level === 'error')).toMatchObject({
      message: 'could not cancel and retry an orphaned job; it fails at its timeout',
      error: expect.stringContaining('403'),
    });
    expect(JSON.stringify(logs)).not.toContain(apiToken);
  });
});

describe('orphanedJobs', () => {
  it('keeps running jobs that GitLab says ran on that machine, with a project to act in', () => {
    const jobs = [
      { id: 1, status: 'running', project: { id: 3 }, runner_manager: { system_id: 's_a' } },
      { id: 2, status: 'running', project: { id: 3 }, runner_manager: { system_id: 's_b' } },
      { id: 3, status: 'success', project: { id: 3 }, runner_manager: { system_id: 's_a' } },
      { id: 4, status: 'running', project: { id: 3 }, runner_manager: null },
      { id: 5, status: 'running', runner_manager: { system_id: 's_a' } },
    ];

    expect(orphanedJobs(jobs, 's_a').map((j) => j.id)).toEqual([1]);
  });
});
