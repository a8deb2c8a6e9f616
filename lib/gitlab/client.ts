/**
 * A small client for the GitLab runner endpoints the safety net, the orphan reaper and the
 * `runner-fleet orphans` command need, over plain `fetch` (no dependency in the Lambda bundle).
 *
 * Every call has a timeout and is retried with backoff and jitter on 5xx, 429, timeouts and
 * connection errors; other 4xx are final. Tokens travel only in form bodies and the
 * PRIVATE-TOKEN header, never in URLs (which proxies and access logs keep), and never in
 * error messages.
 *
 * There is deliberately no method for `DELETE /api/v4/runners`: with the fleet's shared token
 * it would delete the runner for every machine of the fleet.
 */
import { gitlabUrlProblem } from '../identity/gitlab-url';
import { GitLabApiError, redactSecrets } from './errors';
import { backoffDelayMs, isRetryableStatus } from './retry';
import type {
  CreatedRunner,
  DeleteManagerResult,
  DeleteRunnerResult,
  RunnerDetails,
  RunnerJob,
  RunnerManager,
  RunnerSettings,
  RunnerType,
  VerifiedRunner,
} from './types';

export interface GitLabRunnerClientOptions {
  /**
   * GitLab base URL, e.g. `https://gitlab.example.com` (a trailing slash is ignored). Must be
   * https: tokens are never sent in clear text (plain http only to a loopback address).
   */
  readonly baseUrl: string;
  /**
   * Time allowed for one HTTP attempt, in ms.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Attempts per call, including the first.
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * Backoff before the second attempt, in ms; doubles per attempt.
   * @default 500
   */
  readonly baseDelayMs?: number;
  /**
   * Upper bound of one backoff delay, in ms.
   * @default 8000
   */
  readonly maxDelayMs?: number;
  /**
   * `fetch` implementation.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
  /**
   * Waits between attempts; injected by tests to skip real waiting.
   * @default setTimeout-based sleep
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Randomness for jitter, in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * User-Agent header, so GitLab admins can tell who is calling.
   * @default 'gitlab-runner-fleet'
   */
  readonly userAgent?: string;
  /**
   * Longest wait a `Retry-After` header may ask for, in ms; longer asks are capped (or fail the
   * call, see `failOnLongRetryAfter`).
   * @default 60000
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Fail at once when a `Retry-After` asks for more than `maxRetryAfterMs`, instead of waiting
   * that long and asking again. For callers on a timer (the demand scaler's poll): the next tick
   * asks anyway, and a Lambda waiting out a rate limit only costs money.
   * @default false
   */
  readonly failOnLongRetryAfter?: boolean;
}

interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly form?: Record<string, string>;
  /** A JSON body (lists such as tag_list travel as JSON arrays). */
  readonly json?: Record<string, unknown>;
  readonly privateToken?: string;
  /** Values to scrub from any message built from this request. */
  readonly secrets: readonly string[];
}

interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GitLabRunnerClient {
  public readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly userAgent: string;
  private readonly maxRetryAfterMs: number;
  private readonly failOnLongRetryAfter: boolean;

  constructor(options: GitLabRunnerClientOptions) {
    const problem = gitlabUrlProblem(options.baseUrl, true);
    if (problem) throw new Error(`baseUrl ${problem}`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? 5000);
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? sleepReal;
    this.random = options.random ?? Math.random;
    this.userAgent = options.userAgent ?? 'gitlab-runner-fleet';
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.failOnLongRetryAfter = options.failOnLongRetryAfter ?? false;
  }

  /**
   * Resolves the runner a `glrt-` token belongs to (`POST /api/v4/runners/verify`). No
   * `system_id` is sent: with one, GitLab would register a new manager for the caller.
   */
  async verifyRunner(runnerToken: string): Promise<VerifiedRunner> {
    const response = await this.call({
      method: 'POST',
      path: '/api/v4/runners/verify',
      form: { token: runnerToken },
      secrets: [runnerToken],
    });
    const body = parseJson(response.text) as { id?: unknown } | undefined;
    if (typeof body?.id !== 'number') {
      throw new GitLabApiError('GitLab POST /api/v4/runners/verify answered without a runner id', {
        method: 'POST',
        path: '/api/v4/runners/verify',
        status: response.status,
        retryable: false,
        attempts: 1,
      });
    }
    return { id: body.id };
  }

  /**
   * The GitLab's version (`GET /api/v4/version`, a mirror of the metadata API since 15.5): `version`
   * is like "17.5.1-ee". Needs an authenticated token with read_api or api.
   */
  async version(apiToken: string): Promise<{ version: string; revision?: string }> {
    const path = '/api/v4/version';
    const response = await this.call({ method: 'GET', path, privateToken: apiToken, secrets: [apiToken] });
    const body = parseJson(response.text) as { version?: unknown; revision?: unknown } | undefined;
    if (typeof body?.version !== 'string') {
      throw new GitLabApiError(`GitLab GET ${path} answered without a version`, {
        method: 'GET',
        path,
        status: response.status,
        retryable: false,
        attempts: 1,
      });
    }
    return { version: body.version, ...(typeof body.revision === 'string' ? { revision: body.revision } : {}) };
  }

  /** Lists the managers (machines) of a runner, following pagination. Needs a token that can read the runner. */
  async listRunnerManagers(runnerId: number, apiToken: string): Promise<RunnerManager[]> {
    const path = `/api/v4/runners/${encodeURIComponent(String(runnerId))}/managers`;
    return this.listPages<RunnerManager>(apiToken, path);
  }

  /**
   * Running jobs of one machine of a runner: `GET /api/v4/runners/:id/jobs?status=running&system_id=...`
   * (the `system_id` filter came with GitLab merge request 140667, GitLab 16.8; older versions ignore
   * it, so callers must still check each job's `runner_manager.system_id`). Follows pagination.
   */
  async listRunningJobs(runnerId: number, systemId: string, apiToken: string): Promise<RunnerJob[]> {
    const path = `/api/v4/runners/${encodeURIComponent(String(runnerId))}/jobs`;
    return this.listPages<RunnerJob>(apiToken, path, { status: 'running', system_id: systemId });
  }

  /**
   * GETs every page of a list endpoint (`x-next-page` pagination), 100 items a page, at most
   * `maxPages` pages, so a misbehaving server cannot keep a caller paging forever.
   */
  async listPages<T>(apiToken: string, path: string, query: Record<string, string> = {}, maxPages = 100): Promise<T[]> {
    const items: T[] = [];
    let page = '1';
    for (let i = 0; i < maxPages && page; i++) {
      const response = await this.call({
        method: 'GET',
        path,
        query: { ...query, per_page: '100', page },
        privateToken: apiToken,
        secrets: [apiToken],
      });
      const body = parseJson(response.text);
      if (!Array.isArray(body)) {
        throw new GitLabApiError(`GitLab GET ${path} did not answer with a list`, {
          method: 'GET',
          path,
          status: response.status,
          retryable: false,
          attempts: 1,
        });
      }
      items.push(...(body as T[]));
      page = response.headers.get('x-next-page') ?? '';
    }
    return items;
  }

  /** Cancels a job (`POST /api/v4/projects/:id/jobs/:job_id/cancel`). Needs the api scope and Developer on the project. */
  async cancelJob(projectId: number, jobId: number, apiToken: string): Promise<void> {
    await this.call({ method: 'POST', path: jobPath(projectId, jobId, 'cancel'), privateToken: apiToken, secrets: [apiToken] });
  }

  /**
   * Retries a job (`POST /api/v4/projects/:id/jobs/:job_id/retry`): GitLab creates a new job. A canceled
   * job does not trigger the job's own `retry:` rules, hence this call.
   */
  async retryJob(projectId: number, jobId: number, apiToken: string): Promise<{ id: number }> {
    const response = await this.call({
      method: 'POST',
      path: jobPath(projectId, jobId, 'retry'),
      privateToken: apiToken,
      secrets: [apiToken],
    });
    const body = parseJson(response.text) as { id?: unknown } | undefined;
    return { id: typeof body?.id === 'number' ? body.id : 0 };
  }

  /**
   * Deletes one machine's manager (`DELETE /api/v4/runners/managers`, form `token` + `system_id`).
   * A 404 means it is already gone, which is the outcome we wanted.
   */
  async deleteRunnerManager(runnerToken: string, systemId: string): Promise<DeleteManagerResult> {
    if (!systemId) throw new Error('systemId is required; refusing to call DELETE /api/v4/runners/managers without one');
    const response = await this.call(
      { method: 'DELETE', path: '/api/v4/runners/managers', form: { token: runnerToken, system_id: systemId }, secrets: [runnerToken] },
      [404],
    );
    return response.status === 404 ? 'already-gone' : 'deleted';
  }

  /**
   * Creates a runner owned by the token's user (`POST /api/v4/user/runners`, GitLab 15.10+, token
   * scope create_runner). The answer holds the runner's `glrt-` token: callers must store it and
   * drop it, never log it.
   */
  async createRunner(
    apiToken: string,
    runnerType: RunnerType,
    namespaceId: number | undefined,
    settings: RunnerSettings,
  ): Promise<CreatedRunner> {
    const json: Record<string, unknown> = { runner_type: runnerType, ...settings };
    if (runnerType === 'group_type') json.group_id = namespaceId;
    if (runnerType === 'project_type') json.project_id = namespaceId;
    const path = '/api/v4/user/runners';
    const response = await this.call({ method: 'POST', path, json, privateToken: apiToken, secrets: [apiToken] });
    const body = parseJson(response.text) as { id?: unknown; token?: unknown; token_expires_at?: unknown } | undefined;
    if (typeof body?.id !== 'number' || typeof body.token !== 'string') {
      throw new GitLabApiError(`GitLab POST ${path} answered without a runner id and token`, {
        method: 'POST',
        path,
        status: response.status,
        retryable: false,
        attempts: 1,
      });
    }
    return { id: body.id, token: body.token, tokenExpiresAt: typeof body.token_expires_at === 'string' ? body.token_expires_at : null };
  }

  /** Updates a runner's settings in place (`PUT /api/v4/runners/:id`, scope manage_runner or api); its token stays. */
  async updateRunner(apiToken: string, runnerId: number, settings: RunnerSettings): Promise<RunnerDetails> {
    const path = `/api/v4/runners/${encodeURIComponent(String(runnerId))}`;
    const response = await this.call({ method: 'PUT', path, json: { ...settings }, privateToken: apiToken, secrets: [apiToken] });
    return parseJson(response.text) as RunnerDetails;
  }

  /** A runner's details: tags, paused, run_untagged, online status (`GET /api/v4/runners/:id`). */
  async getRunner(apiToken: string, runnerId: number): Promise<RunnerDetails> {
    const path = `/api/v4/runners/${encodeURIComponent(String(runnerId))}`;
    const response = await this.call({ method: 'GET', path, privateToken: apiToken, secrets: [apiToken] });
    return parseJson(response.text) as RunnerDetails;
  }

  /**
   * Deletes a whole runner with all its managers (`DELETE /api/v4/runners/:id`, with an access
   * token, never a runner token). A 404 means someone already deleted it, which is the outcome wanted.
   */
  async deleteRunner(apiToken: string, runnerId: number): Promise<DeleteRunnerResult> {
    const path = `/api/v4/runners/${encodeURIComponent(String(runnerId))}`;
    const response = await this.call({ method: 'DELETE', path, privateToken: apiToken, secrets: [apiToken] }, [404]);
    return response.status === 404 ? 'already-gone' : 'deleted';
  }

  /** The numeric id of a group or project given as an id or a full path (`GET /api/v4/groups/:id`, `/projects/:id`). */
  async namespaceId(apiToken: string, kind: 'group' | 'project', ref: number | string): Promise<number> {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return Number(ref);
    const path = `/api/v4/${kind === 'group' ? 'groups' : 'projects'}/${encodeURIComponent(ref)}`;
    const response = await this.call({ method: 'GET', path, privateToken: apiToken, secrets: [apiToken] });
    const body = parseJson(response.text) as { id?: unknown } | undefined;
    if (typeof body?.id !== 'number') {
      throw new GitLabApiError(`GitLab GET ${path} answered without an id`, {
        method: 'GET',
        path,
        status: response.status,
        retryable: false,
        attempts: 1,
      });
    }
    return body.id;
  }

  /** One API call with timeout and retries. Statuses in `accepted` count as success besides 2xx. */
  private async call(spec: RequestSpec, accepted: readonly number[] = []): Promise<RawResponse> {
    let lastFailure = '';
    let lastStatus: number | undefined;
    let retryAfterMs: number | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) {
        const backoff = backoffDelayMs(attempt - 1, { baseDelayMs: this.baseDelayMs, maxDelayMs: this.maxDelayMs, random: this.random });
        // GitLab's rate limiter says when to come back; earlier attempts would only be refused again.
        await this.sleep(Math.max(backoff, Math.min(retryAfterMs ?? 0, this.maxRetryAfterMs)));
      }
      retryAfterMs = undefined;
      let response: RawResponse;
      try {
        response = await this.attempt(spec);
      } catch (error) {
        lastStatus = undefined;
        lastFailure = `no response (${describeNetworkError(error, this.timeoutMs)})`;
        continue;
      }
      if ((response.status >= 200 && response.status < 300) || accepted.includes(response.status)) return response;
      lastStatus = response.status;
      lastFailure = `HTTP ${response.status}${errorDetail(response.text)}`;
      retryAfterMs = retryAfterDelayMs(response.headers.get('retry-after'), Date.now());
      if (!isRetryableStatus(response.status)) {
        throw this.failure(spec, lastFailure, lastStatus, false, attempt);
      }
      if (this.failOnLongRetryAfter && retryAfterMs !== undefined && retryAfterMs > this.maxRetryAfterMs) {
        const reason = `${lastFailure}, Retry-After ${Math.round(retryAfterMs / 1000)} s is longer than this caller waits`;
        throw this.failure(spec, reason, lastStatus, true, attempt);
      }
    }
    throw this.failure(spec, lastFailure, lastStatus, true, this.maxAttempts);
  }

  private async attempt(spec: RequestSpec): Promise<RawResponse> {
    const url = new URL(this.baseUrl + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    if (spec.privateToken !== undefined) headers['private-token'] = spec.privateToken;
    let body: string | undefined;
    if (spec.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(spec.form).toString();
    } else if (spec.json) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    }
    const response = await this.fetchImpl(url, {
      method: spec.method,
      headers,
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  }

  private failure(spec: RequestSpec, reason: string, status: number | undefined, retryable: boolean, attempts: number): GitLabApiError {
    const message = redactSecrets(
      `GitLab ${spec.method} ${spec.path} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`,
      spec.secrets,
    );
    return new GitLabApiError(message, { method: spec.method, path: spec.path, status, retryable, attempts });
  }
}

function jobPath(projectId: number, jobId: number, action: 'cancel' | 'retry'): string {
  return `/api/v4/projects/${encodeURIComponent(String(projectId))}/jobs/${encodeURIComponent(String(jobId))}/${action}`;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${value}`);
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The wait a `Retry-After` header asks for, in ms: delay-seconds or an HTTP date. Undefined
 * when absent or unreadable.
 */
export function retryAfterDelayMs(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** GitLab's own explanation from an error body, shortened; a missing token scope is named. */
function errorDetail(text: string): string {
  const body = parseJson(text) as { message?: unknown; error?: unknown; scope?: unknown } | undefined;
  if (body?.error === 'insufficient_scope') {
    return ` (insufficient_scope: the access token needs the scope ${typeof body.scope === 'string' ? body.scope.split(' ').join(' or ') : 'this call requires'})`;
  }
  const detail = body?.message ?? body?.error;
  if (detail === undefined) return '';
  const flat = typeof detail === 'string' ? detail : JSON.stringify(detail);
  return ` (${flat.slice(0, 200)})`;
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return err?.cause?.code ?? err?.code ?? err?.cause?.message ?? err?.message ?? 'unknown error';
}
