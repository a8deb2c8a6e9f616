import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabApiError } from '../../lib/gitlab/errors';
import { GitLabRunnerClient } from '../../lib/gitlab/client';
import { listPendingJobs, PENDING_JOBS_MAX_PAGES } from '../../lib/gitlab/pending-jobs';
import { FakeGitLab } from '../support/fake-gitlab';

describe('pending jobs poll against the fake GitLab', () => {
  let gitlab: FakeGitLab;
  let sleeps: number[];
  let token: string;
  let client: GitLabRunnerClient;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    token = ['glpat', 'poll'.padEnd(20, 'x')].join('-');
    gitlab.allowApiToken(token);
    sleeps = [];
    client = new GitLabRunnerClient({
      baseUrl: gitlab.url,
      timeoutMs: 500,
      maxRetryAfterMs: 30_000,
      failOnLongRetryAfter: true,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  it('follows x-next-page across pages and keeps only pending jobs', async () => {
    for (let i = 0; i < 230; i++) gitlab.addJob(7, i + 1, ['computetype-spot']);
    gitlab.addJob(7, 999, ['arm64'], 'running');

    const jobs = await listPendingJobs(client, token, [7]);

    expect(jobs).toHaveLength(230);
    expect(gitlab.requests.filter((r) => r.path === '/api/v4/projects/7/jobs')).toHaveLength(3);
    expect(jobs[0]).toEqual({ id: 1, tagList: ['computetype-spot'] });
  });

  it('reads every configured project', async () => {
    gitlab.addJob(7, 1, ['a']);
    gitlab.addJob(8, 2, ['b']);

    expect((await listPendingJobs(client, token, [7, 8])).map((j) => j.id)).toEqual([1, 2]);
  });

  it('waits for Retry-After on a 429, then reads', async () => {
    gitlab.addJob(7, 1, ['a']);
    gitlab.inject({ kind: 'status', status: 429, times: 1, path: /jobs/, headers: { 'retry-after': '7' } });

    const jobs = await listPendingJobs(client, token, [7]);

    expect(jobs).toHaveLength(1);
    expect(sleeps).toEqual([7000]);
  });

  it('gives up on a Retry-After longer than the poll may wait (the next tick tries again)', async () => {
    gitlab.inject({ kind: 'status', status: 429, times: 1, path: /jobs/, headers: { 'retry-after': '600' } });

    await expect(listPendingJobs(client, token, [7])).rejects.toThrow(/Retry-After 600 s/);
    expect(sleeps).toEqual([]);
  });

  it('backs off with jitter on 5xx and succeeds when GitLab recovers', async () => {
    gitlab.addJob(7, 1, ['a']);
    gitlab.inject({ kind: 'status', status: 502, times: 2, path: /jobs/ });

    expect(await listPendingJobs(client, token, [7])).toHaveLength(1);
    expect(sleeps).toEqual([375, 750]);
  });

  it('fails after its attempts on a lasting 5xx, naming the path and never the token', async () => {
    gitlab.inject({ kind: 'status', status: 503, times: 10, path: /jobs/ });

    const error = await listPendingJobs(client, token, [7]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitLabApiError);
    expect((error as Error).message).toContain('GET /api/v4/projects/7/jobs failed after 4 attempts: HTTP 503');
    expect((error as Error).message).not.toContain(token);
    expect(sleeps).toHaveLength(3);
  });

  it('reads the instance-wide jobs API with an admin token when no project is configured', async () => {
    const admin = ['glpat', 'admin'.padEnd(20, 'x')].join('-');
    gitlab.allowAdminToken(admin);
    gitlab.addJob(7, 1, ['a']);
    gitlab.addJob(9, 2, ['b']);

    expect(await listPendingJobs(client, admin, [])).toHaveLength(2);
  });

  it('does not retry a 403 (a token without admin rights on the instance-wide API)', async () => {
    await expect(listPendingJobs(client, token, [])).rejects.toThrow(/HTTP 403/);
    expect(sleeps).toEqual([]);
  });
});

describe('pending jobs page bound', () => {
  it('stops after the page bound even when GitLab offers more pages', async () => {
    const gitlab = new FakeGitLab();
    await gitlab.start();
    try {
      const token = ['glpat', 'bound'.padEnd(20, 'x')].join('-');
      gitlab.allowApiToken(token);
      for (let i = 0; i < 350; i++) gitlab.addJob(7, i + 1, ['a']);
      const client = new GitLabRunnerClient({ baseUrl: gitlab.url, sleep: async () => {} });

      const jobs = await listPendingJobs(client, token, [7], 2);

      expect(jobs).toHaveLength(200);
      expect(PENDING_JOBS_MAX_PAGES).toBe(20);
    } finally {
      await gitlab.stop();
    }
  });
});
