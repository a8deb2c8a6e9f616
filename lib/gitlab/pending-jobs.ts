/**
 * The poll fallback's view of GitLab: the jobs waiting for a runner, for setups without a
 * job-events webhook. Two sources, by what the token may read:
 * - per project, `GET /api/v4/projects/:id/jobs?scope[]=pending` (a token with `read_api` on
 *   each project: a project, group or personal access token; every tier);
 * - instance-wide, `GET /api/v4/jobs?scope[]=pending` (an administrator's token, self-managed).
 *
 * Plain fetch, paginated by `x-next-page`, bounded, with a timeout per request. A 429 waits
 * for `Retry-After` (GitLab's rate limiter says how long); 5xx and network errors back off with
 * jitter. Tokens travel only in the PRIVATE-TOKEN header and never appear in errors.
 */
import { GitLabApiError, redactSecrets } from './errors';
import { backoffDelayMs, isRetryableStatus } from './retry';

export interface PendingJob {
  readonly id: number;
  readonly tagList: readonly string[];
}

export interface PendingJobsClientOptions {
  readonly baseUrl: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** Attempts per page, including the first. @default 4 */
  readonly maxAttempts?: number;
  /** Longest Retry-After honoured, in ms; a longer one fails the poll (the next tick tries again). @default 30000 */
  readonly maxRetryAfterMs?: number;
  /** Pages read per source at most. @default 20 */
  readonly maxPages?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class PendingJobsClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxPages: number;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: PendingJobsClientOptions) {
    if (!URL.canParse(options.baseUrl))
      throw new Error(`baseUrl "${options.baseUrl}" is not a URL; expected e.g. https://gitlab.example.com`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.maxPages = options.maxPages ?? 20;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? sleepReal;
    this.random = options.random ?? Math.random;
  }

  /** Pending jobs of the given projects, or instance-wide when `projectIds` is empty (admin token). */
  async pendingJobs(token: string, projectIds: readonly number[]): Promise<PendingJob[]> {
    const paths =
      projectIds.length > 0 ? projectIds.map((id) => `/api/v4/projects/${encodeURIComponent(String(id))}/jobs`) : ['/api/v4/jobs'];
    const jobs = new Map<number, PendingJob>();
    for (const path of paths) {
      let page = '1';
      for (let n = 0; n < this.maxPages && page; n++) {
        const response = await this.get(path, { 'scope[]': 'pending', per_page: '100', page }, token);
        const body = JSON.parse(response.text) as unknown;
        if (!Array.isArray(body))
          throw new GitLabApiError(`GitLab GET ${path} did not answer with a list`, {
            method: 'GET',
            path,
            status: response.status,
            retryable: false,
            attempts: 1,
          });
        for (const job of body as Array<{ id?: unknown; tag_list?: unknown }>) {
          if (typeof job.id !== 'number') continue;
          const tags = Array.isArray(job.tag_list) ? job.tag_list.filter((t): t is string => typeof t === 'string') : [];
          jobs.set(job.id, { id: job.id, tagList: tags });
        }
        page = response.headers.get('x-next-page') ?? '';
      }
    }
    return [...jobs.values()];
  }

  private async get(
    path: string,
    query: Record<string, string>,
    token: string,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let failure = '';
    let status: number | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          headers: { accept: 'application/json', 'private-token': token, 'user-agent': 'gitlab-runner-fleet' },
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: 'error',
        });
      } catch (error) {
        status = undefined;
        failure = `no response (${(error as Error).name})`;
        if (attempt < this.maxAttempts) await this.sleep(this.backoff(attempt));
        continue;
      }
      const text = await response.text();
      if (response.ok) return { status: response.status, headers: response.headers, text };
      status = response.status;
      failure = `HTTP ${response.status}`;
      if (!isRetryableStatus(response.status)) break;
      if (attempt === this.maxAttempts) break;
      if (response.status === 429) {
        const waitMs = retryAfterMs(response.headers.get('retry-after'), Date.now());
        if (waitMs !== undefined && waitMs > this.maxRetryAfterMs) {
          failure = `HTTP 429, Retry-After ${Math.round(waitMs / 1000)} s is longer than this poll waits`;
          break;
        }
        await this.sleep(waitMs ?? this.backoff(attempt));
      } else {
        await this.sleep(this.backoff(attempt));
      }
    }
    const message = redactSecrets(`GitLab GET ${path} failed: ${failure}`, [token]);
    throw new GitLabApiError(message, {
      method: 'GET',
      path,
      status,
      retryable: status === undefined || isRetryableStatus(status),
      attempts: this.maxAttempts,
    });
  }

  private backoff(attempt: number): number {
    return backoffDelayMs(attempt, { baseDelayMs: 500, maxDelayMs: 8000, random: this.random });
  }
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
