import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabApiError, GitLabRunnerClient } from '../../lib/gitlab';
import { FakeGitLab, fakeRunnerToken, type FakeRunner, HANG_TIMEOUT_MS } from '../support/fake-gitlab';

const noSleep = async () => {};

describe('GitLabRunnerClient against the fake GitLab', () => {
  let gitlab: FakeGitLab;
  let runner: FakeRunner;
  let token: string;
  let client: GitLabRunnerClient;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    token = fakeRunnerToken('client');
    runner = gitlab.addRunner(token, { id: 42 });
    client = new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: HANG_TIMEOUT_MS, maxAttempts: 3, sleep: noSleep });
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  it('resolves the runner id of a token without registering a manager', async () => {
    const verified = await client.verifyRunner(token);

    expect(verified).toEqual({ id: 42 });
    expect(runner.managers).toHaveLength(0);
  });

  it('fails at once with the status, and without the token, when the token is rejected', async () => {
    const wrong = fakeRunnerToken('wrong');

    const error = await client.verifyRunner(wrong).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitLabApiError);
    expect(error).toMatchObject({ status: 403, retryable: false, attempts: 1 });
    expect(String((error as Error).message)).not.toContain(wrong);
    expect(gitlab.requests).toHaveLength(1);
  });

  it('lists the managers of a runner with the API token in the PRIVATE-TOKEN header', async () => {
    const apiToken = ['glpat', 'reader0000000000000'].join('-');
    gitlab.allowApiToken(apiToken);
    gitlab.addManager(runner, 's_000000000001');
    gitlab.addManager(runner, 's_000000000002');

    const managers = await client.listRunnerManagers(42, apiToken);

    expect(managers.map((m) => m.system_id)).toEqual(['s_000000000001', 's_000000000002']);
  });

  it('deletes one manager by system_id with the runner token', async () => {
    gitlab.addManager(runner, 's_000000000001');
    gitlab.addManager(runner, 's_000000000002');

    const result = await client.deleteRunnerManager(token, 's_000000000001');

    expect(result).toBe('deleted');
    expect(gitlab.managerSystemIds(runner)).toEqual(['s_000000000002']);
    expect(gitlab.requests[0]).toMatchObject({
      method: 'DELETE',
      path: '/api/v4/runners/managers',
      fields: { system_id: 's_000000000001' },
    });
  });

  it('treats a 404 on delete as already gone', async () => {
    const result = await client.deleteRunnerManager(token, 's_00000000dead');

    expect(result).toBe('already-gone');
  });

  it('retries a 500 and succeeds on the next attempt', async () => {
    gitlab.addManager(runner, 's_000000000001');
    gitlab.inject({ kind: 'status', status: 500, times: 1 });

    const result = await client.deleteRunnerManager(token, 's_000000000001');

    expect(result).toBe('deleted');
    expect(gitlab.requests.map((r) => r.status)).toEqual([500, 204]);
  });

  it('retries a connection reset', async () => {
    gitlab.addManager(runner, 's_000000000001');
    gitlab.inject({ kind: 'reset', times: 1 });

    const result = await client.deleteRunnerManager(token, 's_000000000001');

    expect(result).toBe('deleted');
    expect(gitlab.requests).toHaveLength(2);
  });

  it('times out a request that never answers and retries it', async () => {
    gitlab.addManager(runner, 's_000000000001');
    gitlab.inject({ kind: 'hang', times: 1 });

    const result = await client.deleteRunnerManager(token, 's_000000000001');

    expect(result).toBe('deleted');
    expect(gitlab.requests).toHaveLength(2);
  });

  it('gives up after maxAttempts on a persistent 503, marking the error retryable', async () => {
    gitlab.inject({ kind: 'status', status: 503, times: 10 });

    const error = await client.deleteRunnerManager(token, 's_000000000001').catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 503, retryable: true, attempts: 3 });
    expect(gitlab.requests).toHaveLength(3);
  });

  it('reports an unreachable GitLab as a retryable error without the token', async () => {
    const url = gitlab.url;
    await gitlab.stop();
    const offline = new GitLabRunnerClient({ baseUrl: url, timeoutMs: HANG_TIMEOUT_MS, maxAttempts: 2, sleep: noSleep });

    const error = await offline.deleteRunnerManager(token, 's_000000000001').catch((e: unknown) => e);

    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect((error as Error).message).toMatch(/no response/);
    expect((error as Error).message).not.toContain(token);
  });

  it('waits with growing, jittered delays between attempts', async () => {
    const delays: number[] = [];
    const recording = new GitLabRunnerClient({
      baseUrl: gitlab.url,
      maxAttempts: 4,
      baseDelayMs: 100,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    gitlab.inject({ kind: 'status', status: 502, times: 3 });
    gitlab.addManager(runner, 's_000000000001');

    await recording.deleteRunnerManager(token, 's_000000000001');

    expect(delays).toEqual([75, 150, 300]);
  });

  it('never sends the token in the URL', async () => {
    await client.verifyRunner(token);
    await client.deleteRunnerManager(token, 's_000000000001');

    expect(gitlab.requests.every((r) => !r.path.includes(token))).toBe(true);
    expect(gitlab.rawBodies.filter((b) => b.includes(`token=${token}`))).toHaveLength(2);
  });
});
