/** GitLab version parsing and the version check, and the client's GET /api/v4/version against the fake GitLab. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GITLAB_FEATURES,
  GitLabApiError,
  GitLabRunnerClient,
  GitLabVersionError,
  parseGitLabVersion,
  requireGitLabVersion,
  versionAtLeast,
  versionProblem,
} from '../../lib/gitlab';
import { FakeGitLab, LOOPBACK_TIMEOUT_MS } from '../support/fake-gitlab';

describe('parseGitLabVersion', () => {
  it.each([
    ['17.5.1-ee', { major: 17, minor: 5 }],
    ['16.11.0', { major: 16, minor: 11 }],
    ['17.2.0-pre', { major: 17, minor: 2 }],
    ['18.0', { major: 18, minor: 0 }],
  ])('reads %s as major.minor', (text, expected) => {
    expect(parseGitLabVersion(text)).toEqual(expected);
  });

  it.each(['', 'seventeen', '17', '17.x.1', 'v.17.1'])('gives up on %j', (text) => {
    expect(parseGitLabVersion(text)).toBeUndefined();
  });
});

describe('versionAtLeast', () => {
  it('compares minor versions as numbers, not text (17.10 is after 17.9)', () => {
    expect(versionAtLeast({ major: 17, minor: 10 }, '17.9')).toBe(true);
    expect(versionAtLeast({ major: 16, minor: 11 }, '17.1')).toBe(false);
    expect(versionAtLeast({ major: 18, minor: 0 }, '17.1')).toBe(true);
  });

  it('refuses a minimum that is not a version, so a typo in a feature table cannot pass every GitLab', () => {
    expect(() => versionAtLeast({ major: 17, minor: 1 }, 'latest')).toThrow(/minimum version "latest" is not major.minor/);
  });
});

describe('versionProblem', () => {
  it('names every feature the version is too old for, on one line', () => {
    const problem = versionProblem('16.0.0', [GITLAB_FEATURES.runnerCreation, GITLAB_FEATURES.runnerManagers]);

    expect(problem).toContain('GitLab is version 16.0.0, too old: creating and managing runners');
    expect(problem).toContain('; listing runner managers (GET /api/v4/runners/:id/managers) needs GitLab 17.1 or later.');
    expect(problem).not.toContain('\n');
  });

  it('has nothing to say about a new enough or an unreadable version', () => {
    expect(versionProblem('17.1.0', [GITLAB_FEATURES.runnerManagers])).toBeUndefined();
    expect(versionProblem('unknown', [GITLAB_FEATURES.runnerManagers])).toBeUndefined();
  });
});

describe('requireGitLabVersion', () => {
  const failingWith = (error: unknown) => ({ version: async () => Promise.reject(error) });

  it('throws a GitLabVersionError for a readable, too-old version', async () => {
    const warnings: string[] = [];

    const check = requireGitLabVersion({ version: async () => ({ version: '16.5.0' }) }, 't', [GITLAB_FEATURES.runnerManagers], (w) =>
      warnings.push(w),
    );

    await expect(check).rejects.toBeInstanceOf(GitLabVersionError);
    expect(warnings).toEqual([]);
  });

  it('warns and passes when the version is not major.minor', async () => {
    const warnings: string[] = [];

    const found = await requireGitLabVersion(
      { version: async () => ({ version: 'nightly' }) },
      't',
      [GITLAB_FEATURES.runnerManagers],
      (w) => warnings.push(w),
    );

    expect(found).toBe('nightly');
    expect(warnings).toEqual(['GitLab reports version "nightly", which is not major.minor; going on without the check']);
  });

  it.each([
    [
      new GitLabApiError('GitLab GET /api/v4/version failed after 1 attempt: HTTP 401', {
        method: 'GET',
        path: '/api/v4/version',
        status: 401,
        retryable: false,
        attempts: 1,
      }),
      'the token may not read it (HTTP 401',
    ],
    [
      new GitLabApiError('GitLab GET /api/v4/version failed after 3 attempts: HTTP 503', {
        method: 'GET',
        path: '/api/v4/version',
        status: 503,
        retryable: true,
        attempts: 3,
      }),
      'it did not answer (GitLab GET /api/v4/version failed after 3 attempts: HTTP 503)',
    ],
    [new Error('socket hang up'), 'it did not answer (socket hang up)'],
  ])('warns and passes when the version cannot be read (%s)', async (error, why) => {
    const warnings: string[] = [];

    const found = await requireGitLabVersion(failingWith(error), 't', [GITLAB_FEATURES.runnerManagers], (w) => warnings.push(w));

    expect(found).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining(`could not check the GitLab version: ${why}`)]);
  });
});

describe('GitLabRunnerClient.version', () => {
  let gitlab: FakeGitLab;
  let client: GitLabRunnerClient;
  const token = ['glpat', 'versionreader00000000'].join('-');

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    gitlab.allowApiToken(token, ['read_api']);
    client = new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} });
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  it('reads the version and revision GitLab reports, sending the token in the header only', async () => {
    gitlab.version = '17.6.2-ee';

    await expect(client.version(token)).resolves.toEqual({ version: '17.6.2-ee', revision: 'a1b2c3d4' });
    expect(gitlab.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/api/v4/version', status: 200 })]);
  });

  it('fails, without the token in the message, when the answer holds no version', async () => {
    gitlab.inject({ kind: 'status', status: 200, times: 1, path: /\/api\/v4\/version$/ });

    const error = await client.version(token).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitLabApiError);
    expect((error as Error).message).toBe('GitLab GET /api/v4/version answered without a version');
  });
});
