/**
 * A small EC2 instance metadata service (IMDSv2 only) on 127.0.0.1, for tests that run the
 * instance scripts. Like the real one with `HttpTokens: required`, every read needs a session
 * token from `PUT /latest/api/token`; a read without a valid token gets 401.
 *
 * Endpoints:
 * - PUT /latest/api/token                               header X-aws-ec2-metadata-token-ttl-seconds -> token; 400 without it
 * - GET /latest/meta-data/instance-id                   -> instanceId
 * - GET /latest/meta-data/instance-life-cycle           -> `spot` | `on-demand`
 * - GET /latest/meta-data/autoscaling/target-lifecycle-state -> targetLifecycleState; 404 when undefined
 * - GET /latest/meta-data/spot/instance-action          -> JSON notice; 404 until `spotInstanceAction` is set
 * - GET /latest/meta-data/events/recommendations/rebalance -> JSON {noticeTime}; 404 until `rebalanceRecommendation` is set
 * - GET /latest/dynamic/instance-identity/document      -> JSON identity document
 * - GET /metrics                                        -> Prometheus text with `gitlab_runner_jobs`, when `runnerJobs` is set
 *   (stands in for the runner's listen_address in drain tests; 404 otherwise)
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer, type LoopbackServer } from './loopback-server';

export interface ImdsRequest {
  method: string;
  path: string;
  /** Whether the request carried a session token this server issued. */
  withValidToken: boolean;
  status: number;
  at: number;
}

export interface SpotInstanceAction {
  action: 'terminate' | 'stop' | 'hibernate';
  time: string;
}

export class FakeImds {
  instanceId = 'i-0123456789abcdef0';
  region = 'eu-west-1';
  accountId = '123456789012';
  architecture: 'arm64' | 'x86_64' = 'arm64';
  instanceLifeCycle: 'spot' | 'on-demand' = 'spot';
  /** `InService`, `Terminated`, ...; undefined answers 404 (not in an Auto Scaling group). */
  targetLifecycleState: string | undefined = 'InService';
  /** Undefined until a spot interruption notice is issued. */
  spotInstanceAction: SpotInstanceAction | undefined;
  /** Undefined until a rebalance recommendation is issued. */
  rebalanceRecommendation: { noticeTime: string } | undefined;
  /** Running jobs reported on /metrics; undefined answers 404. */
  runnerJobs: number | undefined;
  /** Answers 500 to the next `failReads` metadata reads (token PUTs excluded). */
  failReads = 0;
  readonly requests: ImdsRequest[] = [];
  url = '';
  private readonly tokens = new Set<string>();
  private server?: LoopbackServer;

  async start(): Promise<string> {
    this.server = await startLoopbackServer((req, res) => this.handle(req, res));
    this.url = this.server.url;
    return this.url;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  /** Issues a spot interruption notice naming a reclaim time `leadMs` ahead (EC2: two minutes). */
  issueSpotNotice(leadMs = 120_000): void {
    this.spotInstanceAction = { action: 'terminate', time: new Date(Date.now() + leadMs).toISOString().replace(/\.\d+Z$/, 'Z') };
  }

  /** Issues a rebalance recommendation (EC2: the instance is at elevated risk of a spot interruption). */
  issueRebalanceRecommendation(): void {
    this.rebalanceRecommendation = { noticeTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const method = req.method ?? 'GET';
    const token = req.headers['x-aws-ec2-metadata-token'];
    const withValidToken = typeof token === 'string' && this.tokens.has(token);
    const reply = (status: number, body = '', type = 'text/plain') => {
      this.requests.push({ method, path, withValidToken, status, at: Date.now() });
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    req.resume();

    if (method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return reply(400);
      const issued = `AQAE${randomBytes(24).toString('base64url')}`;
      this.tokens.add(issued);
      return reply(200, issued);
    }
    if (method === 'GET' && path === '/metrics') {
      if (this.runnerJobs === undefined) return reply(404);
      return reply(200, metrics(this.runnerJobs));
    }
    if (method !== 'GET') return reply(405);
    if (!withValidToken) return reply(401);
    if (this.failReads > 0) {
      this.failReads -= 1;
      return reply(500);
    }
    switch (path) {
      case '/latest/meta-data/instance-id':
        return reply(200, this.instanceId);
      case '/latest/meta-data/instance-life-cycle':
        return reply(200, this.instanceLifeCycle);
      case '/latest/meta-data/autoscaling/target-lifecycle-state':
        return this.targetLifecycleState === undefined ? reply(404) : reply(200, this.targetLifecycleState);
      case '/latest/meta-data/spot/instance-action':
        return this.spotInstanceAction ? reply(200, JSON.stringify(this.spotInstanceAction), 'application/json') : reply(404);
      case '/latest/meta-data/events/recommendations/rebalance':
        return this.rebalanceRecommendation ? reply(200, JSON.stringify(this.rebalanceRecommendation), 'application/json') : reply(404);
      case '/latest/dynamic/instance-identity/document':
        return reply(200, JSON.stringify(this.identityDocument(), null, 2), 'application/json');
      default:
        return reply(404);
    }
  }

  private identityDocument(): Record<string, unknown> {
    return {
      accountId: this.accountId,
      architecture: this.architecture === 'arm64' ? 'arm64' : 'x86_64',
      availabilityZone: `${this.region}a`,
      imageId: 'ami-0abcdef1234567890',
      instanceId: this.instanceId,
      instanceType: this.architecture === 'arm64' ? 'm7g.large' : 'm7i.large',
      pendingTime: new Date().toISOString(),
      privateIp: '10.0.0.10',
      region: this.region,
      version: '2017-09-30',
    };
  }
}

function metrics(jobs: number): string {
  return [
    '# HELP gitlab_runner_jobs The current number of running builds.',
    '# TYPE gitlab_runner_jobs gauge',
    `gitlab_runner_jobs{executor_stage="build",runner="abc",stage="step_script",state="running",system_id="s_x"} ${jobs}`,
    '# HELP gitlab_runner_concurrent The current value of concurrent setting',
    '# TYPE gitlab_runner_concurrent gauge',
    'gitlab_runner_concurrent 4',
    '',
  ].join('\n');
}
