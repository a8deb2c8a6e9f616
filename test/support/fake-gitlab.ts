/**
 * A small GitLab on 127.0.0.1 that follows the documented runner API, for tests of the
 * drain agent, the Lambdas and the CLI. It keeps runners and their managers in memory,
 * records every request (with tokens redacted in `requests`), and can inject faults.
 *
 * Endpoints (GitLab REST API v4):
 * - POST   /api/v4/runners/verify          form/json: token, system_id -> 200 {id, token, token_expires_at}; creates the manager
 * - DELETE /api/v4/runners/managers        form/json: token, system_id -> 204; 404 unknown manager; 403 bad token
 * - GET    /api/v4/runners/:id/managers    PRIVATE-TOKEN header      -> 200 [manager]; 401/403/404
 * - GET    /api/v4/runners/:id             PRIVATE-TOKEN header      -> 200 runner details
 * - GET    /api/v4/runners/:id/jobs        PRIVATE-TOKEN; status, system_id filters (system_id ignored when
 *                                          `ignoresSystemIdFilter`, as before GitLab 16.8) -> 200 [job with project, runner_manager]
 * - POST   /api/v4/projects/:id/jobs/:job_id/cancel  PRIVATE-TOKEN (api scope) -> 201 job canceled; 403 without write access
 * - POST   /api/v4/projects/:id/jobs/:job_id/retry   PRIVATE-TOKEN (api scope) -> 201 new pending job; 403 when not retryable
 * - DELETE /api/v4/runners                 (the whole runner) -> always recorded, answers 204: tests assert it is never called
 * - GET    /api/v4/projects/:id/jobs        PRIVATE-TOKEN, scope[]=pending, per_page, page -> 200 [job], x-next-page
 * - GET    /api/v4/jobs                     the same, instance-wide, for admin tokens only (403 otherwise)
 * - POST   /api/v4/user/runners            PRIVATE-TOKEN (create_runner or api), JSON -> 201 {id, token, token_expires_at};
 *                                          400 bad runner_type / missing group_id, project_id; 403 {error: insufficient_scope}
 * - PUT    /api/v4/runners/:id             PRIVATE-TOKEN (manage_runner or api) -> 200 runner details; 404 unknown runner
 * - DELETE /api/v4/runners/:id             PRIVATE-TOKEN (manage_runner or api) -> 204 (the runner and all its managers); 404
 * - GET    /api/v4/groups/:id|:path, /api/v4/projects/:id|:path  PRIVATE-TOKEN (read_api or api) -> 200 {id}; 404
 * - GET    /api/v4/version                 PRIVATE-TOKEN (read_api or api) -> 200 {version, revision} (`version`)
 * A missing PRIVATE-TOKEN answers 401 {message: '401 Unauthorized'}; a token without the scope 403 with GitLab's
 * insufficient_scope body. With `legacyVersion`, the endpoints added after GitLab 15.9 answer 404 as an old GitLab does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer, type LoopbackServer } from './loopback-server';

export interface FakeRunnerManager {
  id: number;
  system_id: string;
  created_at: string;
  contacted_at: string | null;
  status: 'online' | 'offline' | 'never_contacted' | 'stale';
  version?: string;
  architecture?: string;
  platform?: string;
  ip_address?: string;
}

export interface FakeRunner {
  id: number;
  token: string;
  description: string;
  tag_list: string[];
  managers: FakeRunnerManager[];
  runner_type: 'instance_type' | 'group_type' | 'project_type';
  run_untagged: boolean;
  locked: boolean;
  access_level: string;
  paused: boolean;
  maximum_timeout: number | null;
  group_id?: number;
  project_id?: number;
}

export interface FakeJob {
  id: number;
  projectId: number;
  /** The runner that picked it up; null while pending. */
  runnerId: number | null;
  /** The machine that ran it; null when GitLab does not say. */
  systemId: string | null;
  status: 'pending' | 'running' | 'success' | 'failed' | 'canceled';
  /** Set once the job was retried: GitLab retries a job once (the new job can be retried in turn). */
  retried: boolean;
  tagList: string[];
}

export type FakeTokenScope = 'api' | 'read_api' | 'create_runner' | 'manage_runner';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Body fields with any token value replaced by "[redacted]". */
  fields: Record<string, string>;
  status: number;
  at: number;
}

export type FaultMode =
  | { kind: 'status'; status: number; times: number; path?: RegExp; headers?: Record<string, string>; retryAfter?: string }
  | { kind: 'hang'; times: number; path?: RegExp }
  | { kind: 'reset'; times: number; path?: RegExp };

export class FakeGitLab {
  public readonly runners: FakeRunner[] = [];
  public readonly requests: RecordedRequest[] = [];
  /** Raw request bodies, tokens included: for asserting the right token was sent. */
  public readonly rawBodies: string[] = [];
  public readonly jobs: FakeJob[] = [];
  /** As GitLab before 16.8: GET /runners/:id/jobs ignores the system_id filter. */
  public ignoresSystemIdFilter = false;
  private readonly apiTokens = new Map<string, readonly FakeTokenScope[]>();
  /** Groups and projects by full path, for path lookups. */
  public readonly namespaces = { group: new Map<string, number>(), project: new Map<string, number>() };
  /** Answers like a GitLab before 15.10: no POST /user/runners. */
  public legacyVersion = false;
  /** What GET /api/v4/version reports. */
  public version = '17.5.1-ee';
  private nextRunnerId = 500;
  private readonly adminTokens = new Set<string>();
  private nextJobId = 5000;
  private faults: FaultMode[] = [];
  private server?: LoopbackServer;
  private nextManagerId = 1000;
  public url = '';

  /** Adds a runner with the given glrt- token; returns it. */
  addRunner(token: string, opts: Partial<Pick<FakeRunner, 'id' | 'description' | 'tag_list'>> = {}): FakeRunner {
    const runner: FakeRunner = {
      id: opts.id ?? 100 + this.runners.length,
      token,
      description: opts.description ?? 'fleet runner',
      tag_list: opts.tag_list ?? [],
      managers: [],
      runner_type: 'instance_type',
      run_untagged: false,
      locked: false,
      access_level: 'not_protected',
      paused: false,
      maximum_timeout: null,
    };
    this.runners.push(runner);
    return runner;
  }

  /** Adds a manager as if a machine had verified with the runner token. */
  addManager(runner: FakeRunner, systemId: string, createdAt: Date = new Date(), contactedAt: Date | null = createdAt): FakeRunnerManager {
    const manager: FakeRunnerManager = {
      id: this.nextManagerId++,
      system_id: systemId,
      created_at: createdAt.toISOString(),
      contacted_at: contactedAt ? contactedAt.toISOString() : null,
      status: contactedAt ? 'online' : 'never_contacted',
    };
    runner.managers.push(manager);
    return manager;
  }

  /** A PRIVATE-TOKEN with the given scopes (default: api, which allows everything). */
  allowApiToken(token: string, scopes: readonly FakeTokenScope[] = ['api']): void {
    this.apiTokens.set(token, scopes);
  }

  runner(id: number): FakeRunner | undefined {
    return this.runners.find((r) => r.id === id);
  }

  /** Adds a job of `runner`, run by the machine `systemId`; or a job of a project by id, with tags (for the jobs API). */
  addJob(runner: FakeRunner, systemId: string | null, opts?: Partial<Pick<FakeJob, 'status' | 'projectId'>>): FakeJob;
  addJob(projectId: number, id: number, tags: string[], status?: FakeJob['status']): FakeJob;
  addJob(
    first: FakeRunner | number,
    second: string | number | null,
    third: Partial<Pick<FakeJob, 'status' | 'projectId'>> | string[] = {},
    status: FakeJob['status'] = 'pending',
  ): FakeJob {
    const job: FakeJob =
      typeof first === 'number'
        ? { id: second as number, projectId: first, runnerId: null, systemId: null, status, retried: false, tagList: third as string[] }
        : {
            id: this.nextJobId++,
            projectId: (third as Partial<FakeJob>).projectId ?? 42,
            runnerId: first.id,
            systemId: second as string | null,
            status: (third as Partial<FakeJob>).status ?? 'running',
            retried: false,
            tagList: [],
          };
    this.jobs.push(job);
    return job;
  }

  /** A PRIVATE-TOKEN of an administrator: may also read the instance-wide jobs API. */
  allowAdminToken(token: string): void {
    this.apiTokens.set(token, ['api']);
    this.adminTokens.add(token);
  }

  /** Injects a fault for the next `times` matching requests. */
  inject(fault: FaultMode): void {
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults = [];
  }

  managerSystemIds(runner: FakeRunner): string[] {
    return runner.managers.map((m) => m.system_id);
  }

  async start(): Promise<string> {
    this.server = await startLoopbackServer((req, res) => void this.handle(req, res));
    this.url = this.server.url;
    return this.url;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  private takeFault(path: string): FaultMode | undefined {
    const fault = this.faults.find((f) => f.times > 0 && (!f.path || f.path.test(path)));
    if (fault) fault.times -= 1;
    return fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fields = parseFields(body, req.headers['content-type'] ?? '', url);
    this.rawBodies.push(body);
    const record = (status: number) =>
      this.requests.push({ method: req.method ?? '', path: url.pathname, fields: redact(fields), status, at: Date.now() });

    const fault = this.takeFault(url.pathname);
    if (fault?.kind === 'reset') {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') {
      record(0);
      return; // never answers; the client's timeout must fire
    }
    if (fault?.kind === 'status') {
      record(fault.status);
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
      for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
      return json(res, fault.status, { message: `${fault.status} injected` });
    }

    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'POST' && path === '/api/v4/runners/verify') {
      const runner = this.runners.find((r) => r.token === fields.token);
      if (!runner) return this.reply(res, record, 403, { message: '403 Forbidden' });
      if (fields.system_id && !runner.managers.some((m) => m.system_id === fields.system_id)) {
        this.addManager(runner, fields.system_id);
      }
      return this.reply(res, record, 200, { id: runner.id, token: runner.token, token_expires_at: null });
    }
    if (method === 'DELETE' && path === '/api/v4/runners/managers') {
      if (!fields.token || !fields.system_id) return this.reply(res, record, 400, { error: 'token, system_id are missing' });
      const runner = this.runners.find((r) => r.token === fields.token);
      if (!runner) return this.reply(res, record, 403, { message: '403 Forbidden' });
      const index = runner.managers.findIndex((m) => m.system_id === fields.system_id);
      if (index < 0) return this.reply(res, record, 404, { message: '404 Not Found' });
      runner.managers.splice(index, 1);
      return this.reply(res, record, 204, undefined);
    }
    if (method === 'DELETE' && path === '/api/v4/runners') {
      return this.reply(res, record, 204, undefined);
    }
    const projectJobsMatch = /^\/api\/v4\/(?:projects\/(\d+)\/)?jobs$/.exec(path);
    if (method === 'GET' && projectJobsMatch) {
      const token = req.headers['private-token'];
      if (typeof token !== 'string' || !token) return this.reply(res, record, 401, { message: '401 Unauthorized' });
      if (!this.apiTokens.has(token)) return this.reply(res, record, 403, { message: '403 Forbidden' });
      if (!projectJobsMatch[1] && !this.adminTokens.has(token)) return this.reply(res, record, 403, { message: '403 Forbidden' });
      const scopes = url.searchParams.getAll('scope[]');
      const selected = this.jobs.filter(
        (j) => (!projectJobsMatch[1] || j.projectId === Number(projectJobsMatch[1])) && (scopes.length === 0 || scopes.includes(j.status)),
      );
      const perPage = Number(url.searchParams.get('per_page') ?? '20');
      const page = Number(url.searchParams.get('page') ?? '1');
      const slice = selected
        .slice((page - 1) * perPage, page * perPage)
        .map(({ id, status, tagList }) => ({ id, status, tag_list: tagList }));
      record(200);
      const next = page * perPage < selected.length ? String(page + 1) : '';
      res.writeHead(200, { 'content-type': 'application/json', 'x-next-page': next }).end(JSON.stringify(slice));
      return;
    }
    const jobsMatch = /^\/api\/v4\/runners\/(\d+)\/jobs$/.exec(path);
    const jobActionMatch = /^\/api\/v4\/projects\/(\d+)\/jobs\/(\d+)\/(cancel|retry)$/.exec(path);
    if ((method === 'GET' && jobsMatch) || (method === 'POST' && jobActionMatch)) {
      const denied = this.authorize(req, jobsMatch ? ['read_api', 'api'] : ['api']);
      if (denied) return this.reply(res, record, denied.status, denied.body);
      if (jobsMatch) {
        const runner = this.runners.find((r) => r.id === Number(jobsMatch[1]));
        if (!runner) return this.reply(res, record, 404, { message: '404 Runner Not Found' });
        const jobs = this.jobs.filter(
          (j) =>
            j.runnerId === runner.id &&
            (!fields.status || j.status === fields.status) &&
            (this.ignoresSystemIdFilter || !fields.system_id || j.systemId === fields.system_id),
        );
        return this.reply(res, record, 200, jobs.map(jobEntity));
      }
      const job = this.jobs.find((j) => j.projectId === Number(jobActionMatch![1]) && j.id === Number(jobActionMatch![2]));
      if (!job) return this.reply(res, record, 404, { message: '404 Job Not Found' });
      if (jobActionMatch![3] === 'cancel') {
        if (job.status === 'running' || job.status === 'pending') job.status = 'canceled';
        return this.reply(res, record, 201, jobEntity(job));
      }
      if (job.retried || job.status === 'running' || job.status === 'pending') {
        return this.reply(res, record, 403, { message: '403 Forbidden - Job is not retryable' });
      }
      job.retried = true;
      const retry: FakeJob = { ...job, id: this.nextJobId++, systemId: null, status: 'pending', retried: false };
      this.jobs.push(retry);
      return this.reply(res, record, 201, jobEntity(retry));
    }
    if (method === 'POST' && path === '/api/v4/user/runners') {
      if (this.legacyVersion) return this.reply(res, record, 404, { error: '404 Not Found' });
      const denied = this.authorize(req, ['create_runner', 'api']);
      if (denied) return this.reply(res, record, denied.status, denied.body);
      return this.createRunner(fields, body, req.headers['content-type'] ?? '', res, record);
    }
    const runnerMatch = /^\/api\/v4\/runners\/(\d+)(\/managers)?$/.exec(path);
    if (runnerMatch && (method === 'GET' || method === 'PUT' || method === 'DELETE')) {
      const scopes: FakeTokenScope[] = method === 'GET' ? ['read_api', 'api', 'manage_runner'] : ['manage_runner', 'api'];
      const denied = this.authorize(req, scopes);
      if (denied) return this.reply(res, record, denied.status, denied.body);
      const runner = this.runner(Number(runnerMatch[1]));
      if (!runner) return this.reply(res, record, 404, { message: '404 Runner Not Found' });
      if (runnerMatch[2]) return method === 'GET' ? this.reply(res, record, 200, runner.managers) : this.reply(res, record, 405, {});
      if (method === 'DELETE') {
        this.runners.splice(this.runners.indexOf(runner), 1);
        return this.reply(res, record, 204, undefined);
      }
      if (method === 'PUT') this.applySettings(runner, body, req.headers['content-type'] ?? '', fields);
      return this.reply(res, record, 200, runnerDetails(runner));
    }
    if (method === 'GET' && path === '/api/v4/version') {
      const denied = this.authorize(req, ['read_api', 'api']);
      if (denied) return this.reply(res, record, denied.status, denied.body);
      return this.reply(res, record, 200, { version: this.version, revision: 'a1b2c3d4', kas: { enabled: false }, enterprise: false });
    }
    const namespaceMatch = /^\/api\/v4\/(groups|projects)\/(.+)$/.exec(path);
    if (method === 'GET' && namespaceMatch) {
      const denied = this.authorize(req, ['read_api', 'api']);
      if (denied) return this.reply(res, record, denied.status, denied.body);
      const kind = namespaceMatch[1] === 'groups' ? 'group' : 'project';
      const ref = decodeURIComponent(namespaceMatch[2]);
      const id = /^\d+$/.test(ref) ? Number(ref) : this.namespaces[kind].get(ref);
      if (id === undefined) return this.reply(res, record, 404, { message: `404 ${kind === 'group' ? 'Group' : 'Project'} Not Found` });
      return this.reply(res, record, 200, { id });
    }
    return this.reply(res, record, 404, { message: '404 Not Found' });
  }

  /** GitLab's answers for a missing, unknown or under-scoped PRIVATE-TOKEN; undefined when allowed. */
  private authorize(req: IncomingMessage, anyOf: readonly FakeTokenScope[]): { status: number; body: unknown } | undefined {
    const token = req.headers['private-token'];
    const scopes = typeof token === 'string' ? this.apiTokens.get(token) : undefined;
    if (!scopes) return { status: 401, body: { message: '401 Unauthorized' } };
    if (scopes.some((s) => anyOf.includes(s))) return undefined;
    return {
      status: 403,
      body: {
        error: 'insufficient_scope',
        error_description: 'The request requires higher privileges than provided by the access token.',
        scope: anyOf.join(' '),
      },
    };
  }

  private createRunner(
    fields: Record<string, string>,
    body: string,
    contentType: string,
    res: ServerResponse,
    record: (status: number) => void,
  ): void {
    const type = fields.runner_type;
    if (!['instance_type', 'group_type', 'project_type'].includes(type)) {
      return this.reply(res, record, 400, { error: 'runner_type does not have a valid value' });
    }
    if (type === 'group_type' && !fields.group_id) return this.reply(res, record, 400, { error: 'group_id is missing' });
    if (type === 'project_type' && !fields.project_id) return this.reply(res, record, 400, { error: 'project_id is missing' });
    const token = ['glrt', `created${this.nextRunnerId}${'x'.repeat(16)}`].join('-');
    const runner = this.addRunner(token, { id: this.nextRunnerId++ });
    runner.runner_type = type as FakeRunner['runner_type'];
    if (fields.group_id) runner.group_id = Number(fields.group_id);
    if (fields.project_id) runner.project_id = Number(fields.project_id);
    this.applySettings(runner, body, contentType, fields);
    this.reply(res, record, 201, { id: runner.id, token, token_expires_at: null });
  }

  private applySettings(runner: FakeRunner, body: string, contentType: string, fields: Record<string, string>): void {
    const raw = (contentType.includes('application/json') ? JSON.parse(body || '{}') : fields) as Record<string, unknown>;
    if (typeof raw.description === 'string') runner.description = raw.description;
    if (Array.isArray(raw.tag_list)) runner.tag_list = raw.tag_list.map(String);
    else if (typeof raw.tag_list === 'string') runner.tag_list = raw.tag_list.split(',').filter(Boolean);
    for (const key of ['run_untagged', 'locked', 'paused'] as const) {
      if (raw[key] !== undefined) runner[key] = raw[key] === true || raw[key] === 'true';
    }
    if (typeof raw.access_level === 'string') runner.access_level = raw.access_level;
    if (raw.maximum_timeout !== undefined) runner.maximum_timeout = Number(raw.maximum_timeout);
  }

  private reply(res: ServerResponse, record: (status: number) => void, status: number, payload: unknown): void {
    record(status);
    json(res, status, payload);
  }
}

/** A job as the jobs API shows it (the fields this project reads). */
function jobEntity(job: FakeJob): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    project: { id: job.projectId },
    runner_manager: job.systemId === null ? null : { system_id: job.systemId },
  };
}

function runnerDetails(runner: FakeRunner): Record<string, unknown> {
  const online = runner.managers.some((m) => m.status === 'online');
  return {
    id: runner.id,
    description: runner.description,
    tag_list: runner.tag_list,
    run_untagged: runner.run_untagged,
    locked: runner.locked,
    access_level: runner.access_level,
    maximum_timeout: runner.maximum_timeout,
    runner_type: runner.runner_type,
    active: !runner.paused,
    paused: runner.paused,
    online,
    status: online ? 'online' : runner.managers.length > 0 ? 'offline' : 'never_contacted',
  };
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  if (payload === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parseFields(body: string, contentType: string, url: URL): Record<string, string> {
  const fields: Record<string, string> = Object.fromEntries(url.searchParams);
  if (!body) return fields;
  if (contentType.includes('application/json')) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(body) as Record<string, unknown>)) fields[k] = String(v);
    } catch {
      /* not JSON: leave fields from the query string */
    }
    return fields;
  }
  if (contentType.includes('multipart/form-data')) {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
    const marker = `--${boundary?.[1] ?? boundary?.[2]}`;
    for (const part of body.split(marker)) {
      const m = /name="([^"]+)"\r?\n\r?\n([\s\S]*?)\r?\n$/.exec(part);
      if (m) fields[m[1]] = m[2];
    }
    return fields;
  }
  for (const [k, v] of new URLSearchParams(body)) fields[k] = v;
  return fields;
}

function redact(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = /token/i.test(k) ? '[redacted]' : v;
  return out;
}

/**
 * Per-attempt timeout of GitLab clients that talk to a fake on loopback in tests that do not test
 * timeouts: generous, so a busy machine (CI shares 2 cores) never turns a slow answer into a failure.
 */
export const LOOPBACK_TIMEOUT_MS = 10_000;

/**
 * Per-attempt timeout where the fake hangs on purpose: each hung attempt costs this much, and the
 * answered attempts of the same test must still come back within it on a busy machine.
 */
export const HANG_TIMEOUT_MS = 1_500;

/** A token-shaped value built at test time, so no token-like literal is committed. */
export function fakeRunnerToken(label = 'test'): string {
  return ['glrt', `${label}${'x'.repeat(Math.max(0, 20 - label.length))}`].join('-');
}
