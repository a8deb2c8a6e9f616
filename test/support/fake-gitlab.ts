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
 * - DELETE /api/v4/runners                 (the whole runner) -> always recorded, answers 204: tests assert it is never called
 * - GET    /api/v4/projects/:id/jobs        PRIVATE-TOKEN, scope[]=pending, per_page, page -> 200 [job], x-next-page
 * - GET    /api/v4/jobs                     the same, instance-wide, for admin tokens only (403 otherwise)
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
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Body fields with any token value replaced by "[redacted]". */
  fields: Record<string, string>;
  status: number;
  at: number;
}

export type FaultMode =
  | { kind: 'status'; status: number; times: number; path?: RegExp; headers?: Record<string, string> }
  | { kind: 'hang'; times: number; path?: RegExp }
  | { kind: 'reset'; times: number; path?: RegExp };

export class FakeGitLab {
  public readonly runners: FakeRunner[] = [];
  public readonly requests: RecordedRequest[] = [];
  /** Raw request bodies, tokens included: for asserting the right token was sent. */
  public readonly rawBodies: string[] = [];
  private readonly apiTokens = new Set<string>();
  private readonly adminTokens = new Set<string>();
  /** Jobs by project id, for the jobs API. */
  public readonly jobs: Array<{ projectId: number; id: number; status: string; tag_list: string[] }> = [];
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

  /** A PRIVATE-TOKEN that may read runners. */
  allowApiToken(token: string): void {
    this.apiTokens.add(token);
  }

  /** A PRIVATE-TOKEN of an administrator: may also read the instance-wide jobs API. */
  allowAdminToken(token: string): void {
    this.apiTokens.add(token);
    this.adminTokens.add(token);
  }

  /** Adds a job to a project. */
  addJob(projectId: number, id: number, tags: string[], status = 'pending'): void {
    this.jobs.push({ projectId, id, status, tag_list: tags });
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
      res
        .writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        .end(JSON.stringify({ message: `${fault.status} injected` }));
      return;
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
    const jobsMatch = /^\/api\/v4\/(?:projects\/(\d+)\/)?jobs$/.exec(path);
    if (method === 'GET' && jobsMatch) {
      const token = req.headers['private-token'];
      if (typeof token !== 'string' || !token) return this.reply(res, record, 401, { message: '401 Unauthorized' });
      if (!this.apiTokens.has(token)) return this.reply(res, record, 403, { message: '403 Forbidden' });
      if (!jobsMatch[1] && !this.adminTokens.has(token)) return this.reply(res, record, 403, { message: '403 Forbidden' });
      const scopes = url.searchParams.getAll('scope[]');
      const selected = this.jobs.filter(
        (j) => (!jobsMatch[1] || j.projectId === Number(jobsMatch[1])) && (scopes.length === 0 || scopes.includes(j.status)),
      );
      const perPage = Number(url.searchParams.get('per_page') ?? '20');
      const page = Number(url.searchParams.get('page') ?? '1');
      const slice = selected.slice((page - 1) * perPage, page * perPage).map(({ id, status, tag_list }) => ({ id, status, tag_list }));
      record(200);
      const next = page * perPage < selected.length ? String(page + 1) : '';
      res.writeHead(200, { 'content-type': 'application/json', 'x-next-page': next }).end(JSON.stringify(slice));
      return;
    }
    const managersMatch = /^\/api\/v4\/runners\/(\d+)(\/managers)?$/.exec(path);
    if (method === 'GET' && managersMatch) {
      const token = req.headers['private-token'];
      if (typeof token !== 'string' || !token) return this.reply(res, record, 401, { message: '401 Unauthorized' });
      if (!this.apiTokens.has(token)) return this.reply(res, record, 403, { message: '403 Forbidden' });
      const runner = this.runners.find((r) => r.id === Number(managersMatch[1]));
      if (!runner) return this.reply(res, record, 404, { message: '404 Runner Not Found' });
      if (managersMatch[2]) return this.reply(res, record, 200, runner.managers);
      return this.reply(res, record, 200, {
        id: runner.id,
        description: runner.description,
        tag_list: runner.tag_list,
        active: true,
        paused: false,
      });
    }
    return this.reply(res, record, 404, { message: '404 Not Found' });
  }

  private reply(res: ServerResponse, record: (status: number) => void, status: number, payload: unknown): void {
    record(status);
    json(res, status, payload);
  }
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

/** A token-shaped value built at test time, so no token-like literal is committed. */
export function fakeRunnerToken(label = 'test'): string {
  return ['glrt', `${label}${'x'.repeat(Math.max(0, 20 - label.length))}`].join('-');
}
