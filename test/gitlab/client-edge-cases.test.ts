/**
 * How the GitLab client copes with answers the fake GitLab does not give: rate limits, redirects,
 * bodies that are not what the API documents, and failures below HTTP. A bare HTTP server on
 * 127.0.0.1 scripts each answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabApiError, GitLabRunnerClient } from '../../lib/gitlab';
import { fakeRunnerToken } from '../support/fake-gitlab';
import { startLoopbackServer, type LoopbackServer } from '../support/loopback-server';

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

const noSleep = async () => {};

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('GitLabRunnerClient edge cases', () => {
  let server: LoopbackServer;
  let url: string;
  let answers: Answer[];
  let seen: Seen[];
  let token: string;

  const client = (extra: Partial<ConstructorParameters<typeof GitLabRunnerClient>[0]> = {}) =>
    new GitLabRunnerClient({ baseUrl: url, timeoutMs: 500, maxAttempts: 3, sleep: noSleep, ...extra });

  beforeEach(async () => {
    answers = [];
    seen = [];
    token = fakeRunnerToken('edge');
    server = await startLoopbackServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      req.resume();
      req.on('end', () => {
        const answer = answers.shift();
        if (answer) answer(req, res);
        else json(res, 500, { message: 'no scripted answer' });
      });
    });
    url = server.url;
  });

  afterEach(async () => {
    await server.stop();
  });

  describe('options', () => {
    it.each(['http://gitlab.example.com', 'http://10.0.0.5', 'ftp://gitlab.example.com'])(
      'refuses %s before any token is sent: GitLab tokens go over https only',
      (baseUrl) => {
        expect(() => new GitLabRunnerClient({ baseUrl })).toThrow(`baseUrl "${baseUrl}" is not an https:// URL`);
      },
    );

    it.each(['https://gitlab.example.com', 'http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080'])(
      'accepts %s (https, or http that never leaves the machine)',
      (baseUrl) => {
        expect(new GitLabRunnerClient({ baseUrl }).baseUrl).toBe(baseUrl);
      },
    );

    it('refuses a baseUrl that is not a URL, naming the option', () => {
      expect(() => new GitLabRunnerClient({ baseUrl: 'gitlab.example.com' })).toThrow(/baseUrl "gitlab.example.com" is not a URL/);
    });

    it('refuses a timeoutMs that is not positive, naming the option', () => {
      expect(() => new GitLabRunnerClient({ baseUrl: url, timeoutMs: 0 })).toThrow('timeoutMs must be a positive number, got 0');
    });

    it('refuses a maxAttempts that is not a number, naming the option', () => {
      expect(() => new GitLabRunnerClient({ baseUrl: url, maxAttempts: Number.NaN })).toThrow(
        'maxAttempts must be a positive number, got NaN',
      );
    });

    it('drops trailing slashes from the baseUrl so paths are not doubled', async () => {
      answers.push((_req, res) => json(res, 200, { id: 7 }));
      const c = new GitLabRunnerClient({ baseUrl: `${url}//`, sleep: noSleep });
      expect(c.baseUrl).toBe(url);
      await c.verifyRunner(token);
      expect(seen[0].url).toBe('/api/v4/runners/verify');
    });

    it('really waits between attempts when no sleep is given', async () => {
      // GIVEN a first answer worth retrying and a 40 ms backoff step (jittered to 20-40 ms)
      answers.push((_req, res) => json(res, 503, { message: 'busy' }));
      answers.push((_req, res) => json(res, 200, { id: 7 }));
      const c = new GitLabRunnerClient({ baseUrl: url, baseDelayMs: 40, maxDelayMs: 40 });
      // WHEN the call is retried
      const started = performance.now();
      await c.verifyRunner(token);
      // THEN the retry came after the backoff
      expect(performance.now() - started).toBeGreaterThanOrEqual(19);
      expect(seen).toHaveLength(2);
    });

    it('sends the default user agent unless one is given', async () => {
      answers.push((_req, res) => json(res, 200, { id: 7 }));
      answers.push((_req, res) => json(res, 200, { id: 7 }));
      await client().verifyRunner(token);
      await client({ userAgent: 'runner-fleet-cli/1.0' }).verifyRunner(token);
      expect(seen.map((s) => s.headers['user-agent'])).toEqual(['gitlab-runner-fleet', 'runner-fleet-cli/1.0']);
    });
  });

  describe('rate limits and redirects', () => {
    it('retries a 429 carrying Retry-After and succeeds on the next attempt', async () => {
      // GIVEN GitLab rate-limits the first call
      answers.push((_req, res) => json(res, 429, { message: '429 Too Many Requests' }, { 'retry-after': '1' }));
      answers.push((_req, res) => json(res, 204, {}));
      // WHEN a manager is deleted
      const result = await client().deleteRunnerManager(token, 's_000000000001');
      // THEN the second attempt's answer counts
      expect(result).toBe('deleted');
      expect(seen).toHaveLength(2);
    });

    it('gives up on a persistent 429 as a retryable error carrying the status and GitLab message', async () => {
      for (let i = 0; i < 3; i++)
        answers.push((_req, res) => json(res, 429, { message: '429 Too Many Requests' }, { 'retry-after': '60' }));
      const error = await client()
        .deleteRunnerManager(token, 's_000000000001')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitLabApiError);
      expect(error).toMatchObject({ status: 429, retryable: true, attempts: 3 });
      expect((error as Error).message).toBe(
        'GitLab DELETE /api/v4/runners/managers failed after 3 attempts: HTTP 429 (429 Too Many Requests)',
      );
    });

    it('refuses to follow a redirect, so the token is never sent to another host', async () => {
      // GIVEN GitLab answers every call with a redirect to elsewhere on this server
      for (let i = 0; i < 3; i++)
        answers.push((_req, res) => {
          res.writeHead(302, { location: `${url}/elsewhere` });
          res.end();
        });
      // WHEN the token is verified
      const error = await client()
        .verifyRunner(token)
        .catch((e: unknown) => e);
      // THEN the call fails without a response and the redirect target is never requested
      expect(error).toBeInstanceOf(GitLabApiError);
      expect(error).toMatchObject({ status: undefined, attempts: 3 });
      expect((error as Error).message).toMatch(/failed after 3 attempts: no response \(unexpected redirect\)$/);
      expect(seen.map((s) => s.url)).toEqual(Array(3).fill('/api/v4/runners/verify'));
    });
  });

  describe('unexpected bodies', () => {
    it('fails verification when a 200 body is not JSON', async () => {
      answers.push((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>sign in</html>');
      });
      const error = await client()
        .verifyRunner(token)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitLabApiError);
      expect(error).toMatchObject({ status: 200, retryable: false });
      expect((error as Error).message).toBe('GitLab POST /api/v4/runners/verify answered without a runner id');
    });

    it('fails verification when the runner id is not a number', async () => {
      answers.push((_req, res) => json(res, 200, { id: '42' }));
      await expect(client().verifyRunner(token)).rejects.toThrow(/answered without a runner id/);
    });

    it('fails listing when the managers body is not a list', async () => {
      answers.push((_req, res) => json(res, 200, { managers: [] }));
      const error = await client()
        .listRunnerManagers(42, token)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitLabApiError);
      expect(error).toMatchObject({ method: 'GET', path: '/api/v4/runners/42/managers', status: 200, retryable: false });
      expect((error as Error).message).toBe('GitLab GET /api/v4/runners/42/managers did not answer with a list');
    });

    it('follows X-Next-Page until GitLab sends an empty one', async () => {
      answers.push((_req, res) => json(res, 200, [{ system_id: 's_1' }], { 'x-next-page': '2' }));
      answers.push((_req, res) => json(res, 200, [{ system_id: 's_2' }], { 'x-next-page': '' }));
      const managers = await client().listRunnerManagers(42, token);
      expect(managers.map((m) => m.system_id)).toEqual(['s_1', 's_2']);
      expect(seen.map((s) => new URL(s.url, url).searchParams.get('page'))).toEqual(['1', '2']);
    });

    it('leaves the reason at the status when an error body is not JSON', async () => {
      answers.push((_req, res) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('Bad Request');
      });
      await expect(client().deleteRunnerManager(token, 's_1')).rejects.toThrow(/failed after 1 attempt: HTTP 400$/);
    });

    it('quotes a structured GitLab error as JSON, cut to 200 characters', async () => {
      answers.push((_req, res) => json(res, 400, { error: { system_id: ['x'.repeat(300)] } }));
      const error = (await client()
        .deleteRunnerManager(token, 's_1')
        .catch((e: unknown) => e)) as Error;
      const detail = /\((.*)\)$/.exec(error.message)?.[1] ?? '';
      expect(detail.startsWith('{"system_id":["xxx')).toBe(true);
      expect(detail).toHaveLength(200);
    });

    it('scrubs the token when GitLab echoes it back in an error body', async () => {
      answers.push((_req, res) => json(res, 403, { message: `403 Forbidden - token ${token} is invalid` }));
      const error = (await client()
        .verifyRunner(token)
        .catch((e: unknown) => e)) as Error;
      expect(error.message).not.toContain(token);
      expect(error.message).toContain('403 Forbidden - token [redacted] is invalid');
    });
  });

  describe('refusals', () => {
    it('refuses to delete without a system_id, so it can never delete every manager', async () => {
      await expect(client().deleteRunnerManager(token, '')).rejects.toThrow(/systemId is required/);
      expect(seen).toHaveLength(0);
    });
  });
});

describe('GitLabRunnerClient network failure descriptions', () => {
  const failing = (thrown: unknown) =>
    new GitLabRunnerClient({
      baseUrl: 'http://127.0.0.1:9',
      maxAttempts: 1,
      sleep: noSleep,
      fetch: async () => {
        throw thrown;
      },
    });

  it('names the error code when the cause has none', async () => {
    await expect(failing(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).verifyRunner('x')).rejects.toThrow(
      /no response \(ECONNREFUSED\)/,
    );
  });

  it('falls back to the cause message, then the error message', async () => {
    await expect(failing(new TypeError('fetch failed', { cause: new Error('self-signed certificate') })).verifyRunner('x')).rejects.toThrow(
      /no response \(self-signed certificate\)/,
    );
    await expect(failing(new Error('socket hang up')).verifyRunner('x')).rejects.toThrow(/no response \(socket hang up\)/);
  });

  it('says unknown error when what was thrown carries nothing', async () => {
    await expect(failing(undefined).verifyRunner('x')).rejects.toThrow(/no response \(unknown error\)/);
  });

  it('reports an aborted request as timed out', async () => {
    await expect(failing(Object.assign(new Error('aborted'), { name: 'AbortError' })).verifyRunner('x')).rejects.toThrow(
      /no response \(timed out after 5000 ms\)/,
    );
  });
});
