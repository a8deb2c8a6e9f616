import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabApiError, GitLabRunnerClient, retryAfterDelayMs, type RunnerSettings } from '../../lib/gitlab';
import { FakeGitLab } from '../support/fake-gitlab';

const SETTINGS: RunnerSettings = {
  description: 'gitlab-runner-fleet spotty (spot) in 123456789012/eu-west-1',
  tag_list: ['computetype-spot', 'arm64', 'docker'],
  run_untagged: false,
  locked: false,
  access_level: 'not_protected',
  paused: false,
  maximum_timeout: 3600,
};

describe('GitLabRunnerClient runner management against the fake GitLab', () => {
  let gitlab: FakeGitLab;
  let apiToken: string;
  let sleeps: number[];
  let client: GitLabRunnerClient;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    apiToken = ['glpat', 'manager0000000000000'].join('-');
    gitlab.allowApiToken(apiToken, ['create_runner', 'manage_runner']);
    sleeps = [];
    client = new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 5000, maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms) });
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  it('creates a group runner with its tags as a JSON list and returns its id and token', async () => {
    const created = await client.createRunner(apiToken, 'group_type', 77, SETTINGS);

    const runner = gitlab.runner(created.id)!;
    expect(created.token).toBe(runner.token);
    expect(runner).toMatchObject({
      runner_type: 'group_type',
      group_id: 77,
      tag_list: SETTINGS.tag_list,
      run_untagged: false,
      maximum_timeout: 3600,
    });
  });

  it('updates tags in place, keeping the token', async () => {
    const created = await client.createRunner(apiToken, 'instance_type', undefined, SETTINGS);

    await client.updateRunner(apiToken, created.id, { ...SETTINGS, tag_list: ['computetype-spot', 'arm64', 'docker', 'big'] });

    expect(gitlab.runner(created.id)).toMatchObject({ token: created.token, tag_list: ['computetype-spot', 'arm64', 'docker', 'big'] });
  });

  it('deletes a runner, and reports a runner deleted by hand as already gone', async () => {
    const created = await client.createRunner(apiToken, 'instance_type', undefined, SETTINGS);

    expect(await client.deleteRunner(apiToken, created.id)).toBe('deleted');
    expect(await client.deleteRunner(apiToken, created.id)).toBe('already-gone');
    expect(gitlab.runner(created.id)).toBeUndefined();
  });

  it('resolves a group full path to its id, and passes numeric ids through without a call', async () => {
    gitlab.allowApiToken(apiToken, ['read_api', 'create_runner']);
    gitlab.namespaces.group.set('my-org/platform', 321);

    expect(await client.namespaceId(apiToken, 'group', 'my-org/platform')).toBe(321);
    expect(await client.namespaceId(apiToken, 'project', 9)).toBe(9);
    expect(gitlab.requests.map((r) => r.path)).toEqual(['/api/v4/groups/my-org%2Fplatform']);
  });

  it('names the missing scope when the token may not create runners', async () => {
    const reader = ['glpat', 'reader00000000000000'].join('-');
    gitlab.allowApiToken(reader, ['read_api']);

    const error = (await client.createRunner(reader, 'instance_type', undefined, SETTINGS).catch((e: unknown) => e)) as GitLabApiError;

    expect(error).toBeInstanceOf(GitLabApiError);
    expect(error.status).toBe(403);
    expect(error.message).toContain('needs the scope create_runner or api');
    expect(error.message).not.toContain(reader);
  });

  it('waits as long as Retry-After asks on a 429, then succeeds', async () => {
    gitlab.inject({ kind: 'status', status: 429, times: 1, retryAfter: '7', path: /user\/runners/ });

    const created = await client.createRunner(apiToken, 'instance_type', undefined, SETTINGS);

    expect(created.id).toBeGreaterThan(0);
    expect(sleeps).toEqual([7000]);
  });

  it('retries a 5xx with backoff and no Retry-After', async () => {
    gitlab.inject({ kind: 'status', status: 502, times: 2, path: /user\/runners/ });

    await client.createRunner(apiToken, 'instance_type', undefined, SETTINGS);

    expect(sleeps).toHaveLength(2);
    expect(sleeps.every((ms) => ms < 7000)).toBe(true);
  });

  it('reads Retry-After as seconds or an HTTP date, and ignores junk', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterDelayMs('3', now)).toBe(3000);
    expect(retryAfterDelayMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterDelayMs('soon', now)).toBeUndefined();
    expect(retryAfterDelayMs(null, now)).toBeUndefined();
  });
});
