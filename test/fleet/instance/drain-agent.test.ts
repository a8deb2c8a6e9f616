/**
 * Runs the real drain-agent.sh with bash against a fake IMDS and a fake GitLab on 127.0.0.1,
 * with stub aws/systemctl/gitlab-runner on PATH, and checks what it does and in which order.
 * Each test has its own servers and sandbox, so the tests (mostly waiting) run concurrently.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { LIFECYCLE_HOOKS, autoScalingGroupName, runnerName, systemIdForInstance } from '../../../lib/identity/runner-identity';
import { fakeRunnerToken } from '../../support/fake-gitlab';
import { INSTANCE_DIR, waitFor, type Call } from './sandbox';
import { InstanceWorld } from './world';

const AGENT = join(INSTANCE_DIR, 'drain-agent.sh');
const INSTANCE_ID = 'i-0a1b2c3d4e5f60718';
const SYSTEM_ID = systemIdForInstance(INSTANCE_ID);
const ASG = autoScalingGroupName('graviton-spot');

/** One instance: fake IMDS, fake GitLab with this machine's manager and another one, a sandbox with the token file. */
class World extends InstanceWorld {
  static async create(context: TestContext): Promise<World> {
    const w = new World(fakeRunnerToken('drain'), INSTANCE_ID);
    await w.start(context);
    w.gitlab.addManager(w.runner, SYSTEM_ID);
    w.gitlab.addManager(w.runner, 's_othermachine');
    mkdirSync(w.sandbox.runDir, { recursive: true });
    writeFileSync(join(w.sandbox.runDir, 'runner-token'), w.token, { mode: 0o600 });
    return w;
  }

  agentEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      GRF_IMDS_ENDPOINT: this.imds.url,
      GRF_GITLAB_URL: this.gitlab.url,
      GRF_ASG_NAME: ASG,
      GRF_TERMINATE_HOOK: LIFECYCLE_HOOKS.terminate,
      GRF_INSTANCE_ID: INSTANCE_ID,
      GRF_REGION: 'eu-west-1',
      GRF_SYSTEM_ID: SYSTEM_ID,
      GRF_RUNNER_NAME: runnerName('graviton-spot', INSTANCE_ID, '123456789012', 'eu-west-1'),
      GRF_POLL_SECONDS: '0.1',
      GRF_HEARTBEAT_MS: '300',
      GRF_MAX_JOB_TIMEOUT_MS: '30000',
      GRF_DEREGISTER_TIMEOUT_MS: '20000',
      GRF_METRICS_URL: `${this.imds.url}/metrics`,
      GRF_FLEET_NAME: 'graviton-spot',
      GRF_FORCE_STOP_WAIT_MS: '5000',
      ...extra,
    };
  }

  managerDeletes() {
    return this.gitlab.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/v4/runners/managers');
  }

  successfulDelete() {
    return this.managerDeletes().find((r) => r.status === 204 || r.status === 404);
  }
}

const first = (calls: Call[], pattern: RegExp) => calls.find((c) => pattern.test(c.line));
const all = (calls: Call[], pattern: RegExp) => calls.filter((c) => pattern.test(c.line));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The drain milestones of one run, by time; undefined for those that did not happen. */
function milestones(w: World) {
  const calls = w.sandbox.calls();
  return {
    sigquits: all(calls, /^gitlab-runner got SIGQUIT/),
    heartbeats: all(calls, /^aws autoscaling record-lifecycle-action-heartbeat/),
    deleted: w.successfulDelete(),
    forceSignal: first(calls, /^systemctl kill .*--signal=SIGTERM gitlab-runner.service/),
    sigterm: first(calls, /^gitlab-runner got SIGTERM/),
    exited: first(calls, /^gitlab-runner exited/),
    complete: first(calls, /^aws autoscaling complete-lifecycle-action .*--lifecycle-action-result CONTINUE/),
    metrics: all(calls, /^aws cloudwatch put-metric-data/),
  };
}

describe.concurrent('drain agent on a scale-in (target lifecycle state Terminated)', () => {
  it('sends SIGQUIT, heartbeats while the job runs, deletes its own manager, then completes with CONTINUE', async (ctx) => {
    const w = await World.create(ctx);
    // GIVEN a runner with a job that needs 1.2 s to finish after SIGQUIT
    w.sandbox.setJobSeconds(1.2);
    w.sandbox.startRunner();
    const agent = w.sandbox.start(AGENT, w.agentEnv());
    await new Promise((r) => setTimeout(r, 300));
    const beforeTrigger = w.sandbox.calls().filter((c) => !/^(logger|gitlab-runner run)/.test(c.line));

    // WHEN Auto Scaling marks the instance for termination
    w.imds.targetLifecycleState = 'Terminated';
    const result = await agent.done;

    // THEN the agent exits cleanly after the drain sequence, in order
    expect(result.code).toBe(0);
    const calls = w.sandbox.calls();
    expect(beforeTrigger).toEqual([]);
    // systemctl stop is how the agent sends SIGQUIT (KillSignal=SIGQUIT in the runner's unit)
    const sigquitSent = first(calls, /^systemctl stop --no-block gitlab-runner.service/)!;
    const exited = first(calls, /^gitlab-runner exited/)!;
    const heartbeats = all(calls, /^aws autoscaling record-lifecycle-action-heartbeat/);
    const complete = first(calls, /^aws autoscaling complete-lifecycle-action/)!;
    const deleted = w.successfulDelete()!;
    expect(first(calls, /^gitlab-runner got SIGQUIT/)).toBeDefined();
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(heartbeats[0].at).toBeGreaterThanOrEqual(sigquitSent.at);
    expect(heartbeats.every((h) => h.at <= deleted.at)).toBe(true);
    expect(deleted.at).toBeGreaterThanOrEqual(exited.at);
    expect(complete.at).toBeGreaterThanOrEqual(deleted.at);
    expect(complete.line).toContain(`--lifecycle-hook-name ${LIFECYCLE_HOOKS.terminate}`);
    expect(complete.line).toContain(`--auto-scaling-group-name ${ASG}`);
    expect(complete.line).toContain(`--instance-id ${INSTANCE_ID}`);
    expect(complete.line).toContain('--lifecycle-action-result CONTINUE');
  });

  it('deletes only the runner manager of its own system_id, with the runner token', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.startRunner();
    w.imds.targetLifecycleState = 'Terminated';

    const result = await w.sandbox.run(AGENT, w.agentEnv());

    expect(result.code).toBe(0);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual(['s_othermachine']);
    expect(w.managerDeletes()).toHaveLength(1);
    expect(w.managerDeletes()[0].fields).toEqual({ token: '[redacted]', system_id: SYSTEM_ID });
    expect(w.gitlab.requests.some((r) => r.method === 'DELETE' && r.path === '/api/v4/runners')).toBe(false);
  });

  it('keeps retrying through a GitLab outage (500s and connection resets) and deregisters once GitLab is back', async (ctx) => {
    const w = await World.create(ctx);
    w.gitlab.inject({ kind: 'status', status: 500, times: 3, path: /managers/ });
    w.gitlab.inject({ kind: 'reset', times: 2, path: /managers/ });
    w.imds.targetLifecycleState = 'Terminated';

    const result = await w.sandbox.run(AGENT, w.agentEnv());

    expect(result.code).toBe(0);
    expect(w.managerDeletes().map((r) => r.status)).toEqual([500, 500, 500, 0, 0, 204]);
    expect(w.gitlab.managerSystemIds(w.runner)).not.toContain(SYSTEM_ID);
    const complete = first(w.sandbox.calls(), /^aws autoscaling complete-lifecycle-action/)!;
    expect(complete.at).toBeGreaterThanOrEqual(w.successfulDelete()!.at);
  });

  it('records heartbeats while it waits for GitLab to come back', async (ctx) => {
    const w = await World.create(ctx);
    w.gitlab.inject({ kind: 'status', status: 503, times: 1000, path: /managers/ });
    w.imds.targetLifecycleState = 'Terminated';
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_RETRY_BASE_MS: '100', GRF_RETRY_MAX_MS: '200' }));

    await waitFor(() => all(w.sandbox.calls(), /record-lifecycle-action-heartbeat/).length >= 2);
    w.gitlab.clearFaults();
    const result = await agent.done;

    expect(result.code).toBe(0);
    expect(w.successfulDelete()?.status).toBe(204);
  });

  it('gives up loudly at the deregistration deadline and still completes the lifecycle action', async (ctx) => {
    const w = await World.create(ctx);
    w.gitlab.inject({ kind: 'status', status: 502, times: 10_000, path: /managers/ });
    w.imds.targetLifecycleState = 'Terminated';

    const result = await w.sandbox.run(AGENT, w.agentEnv({ GRF_DEREGISTER_TIMEOUT_MS: '800' }));

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/GIVING UP deregistering system_id=s_/);
    expect(first(w.sandbox.calls(), /complete-lifecycle-action .*CONTINUE/)).toBeDefined();
    expect(milestones(w).metrics.map((c) => c.line)).toContainEqual(
      'aws cloudwatch put-metric-data --region eu-west-1 --namespace GitLabRunnerFleet --metric-name DeregistrationFailures ' +
        '--dimensions Fleet=graviton-spot --value 1 --unit Count',
    );
  });

  it('publishes the drain duration, from Terminated seen to CONTINUE, as DrainSeconds of the fleet', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(2.2);
    w.sandbox.startRunner();
    w.imds.targetLifecycleState = 'Terminated';

    const result = await w.sandbox.run(AGENT, w.agentEnv());

    expect(result.code).toBe(0);
    const lines = milestones(w).metrics.map((c) => c.line);
    expect(lines).toHaveLength(1);
    const match =
      /^aws cloudwatch put-metric-data --region eu-west-1 --namespace GitLabRunnerFleet --metric-name DrainSeconds --dimensions Fleet=graviton-spot --value (\d+) --unit Seconds$/.exec(
        lines[0],
      );
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(2);
    expect(Number(match![1])).toBeLessThan(15);
  });

  it('counts no deregistration failure when the manager was deleted', async (ctx) => {
    const w = await World.create(ctx);
    w.imds.targetLifecycleState = 'Terminated';

    await w.sandbox.run(AGENT, w.agentEnv());

    expect(milestones(w).metrics.some((c) => c.line.includes('DeregistrationFailures'))).toBe(false);
  });

  it('counts a 404 (manager already deleted, e.g. by the safety-net Lambda) as done', async (ctx) => {
    const w = await World.create(ctx);
    w.runner.managers.splice(0, w.runner.managers.length);
    w.imds.targetLifecycleState = 'Terminated';

    const result = await w.sandbox.run(AGENT, w.agentEnv());

    expect(result.code).toBe(0);
    expect(w.managerDeletes().map((r) => r.status)).toEqual([404]);
    expect(result.stdout).toMatch(/already gone/);
    expect(first(w.sandbox.calls(), /complete-lifecycle-action .*CONTINUE/)).toBeDefined();
  });

  it('stops waiting for a job at the max job timeout', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    w.imds.targetLifecycleState = 'Terminated';
    const started = Date.now();

    const result = await w.sandbox.run(AGENT, w.agentEnv({ GRF_MAX_JOB_TIMEOUT_MS: '1000' }));

    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000); // the job would run for 60 s; generous for a busy machine
    expect(result.stdout).toMatch(/jobs still running at the drain deadline/);
    expect(w.successfulDelete()?.status).toBe(204);
  });

  it('does not wait for an idle runner whose metrics report no running job', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(60); // the process would linger, but it reports zero jobs
    w.sandbox.startRunner();
    w.imds.runnerJobs = 0;
    w.imds.targetLifecycleState = 'Terminated';
    const started = Date.now();

    const result = await w.sandbox.run(AGENT, w.agentEnv());

    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000); // the job would run for 60 s; generous for a busy machine
    expect(all(w.sandbox.calls(), /record-lifecycle-action-heartbeat/)).toHaveLength(0);
  });

  it('does nothing twice: a second run after a completed drain makes no call', async (ctx) => {
    const w = await World.create(ctx);
    w.imds.targetLifecycleState = 'Terminated';
    await w.sandbox.run(AGENT, w.agentEnv());
    const actions = () => w.sandbox.calls().filter((c) => !c.line.startsWith('logger'));
    const callsAfterFirst = actions().length;
    const requestsAfterFirst = w.gitlab.requests.length;

    const second = await w.sandbox.run(AGENT, w.agentEnv());

    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already drained/);
    expect(actions()).toHaveLength(callsAfterFirst);
    expect(w.gitlab.requests).toHaveLength(requestsAfterFirst);
  });

  it('reads IMDS only with an IMDSv2 session token', async (ctx) => {
    const w = await World.create(ctx);
    w.imds.targetLifecycleState = 'Terminated';

    await w.sandbox.run(AGENT, w.agentEnv());

    const reads = w.imds.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/latest/'));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.withValidToken)).toBe(true);
  });
});

describe.concurrent('drain agent on a spot interruption notice', () => {
  it('sends SIGQUIT at once, lets the job finish, deregisters, and completes the action once the state is Terminated', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(1);
    w.sandbox.startRunner();
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '10000' }));
    await new Promise((r) => setTimeout(r, 300));

    const noticeAt = Date.now();
    w.imds.issueSpotNotice();
    await waitFor(() => w.successfulDelete() !== undefined);
    const calls = w.sandbox.calls();
    expect(first(calls, /complete-lifecycle-action/)).toBeUndefined();
    w.imds.targetLifecycleState = 'Terminated';
    const result = await agent.done;

    expect(result.code).toBe(0);
    const after = w.sandbox.calls();
    const sigquit = first(after, /^gitlab-runner got SIGQUIT/)!;
    const exited = first(after, /^gitlab-runner exited/)!;
    const complete = first(after, /^aws autoscaling complete-lifecycle-action/)!;
    expect(sigquit.at - noticeAt).toBeLessThan(8_000); // at once, not at the 10 s deregistration point
    expect(w.successfulDelete()!.at).toBeGreaterThanOrEqual(exited.at);
    expect(complete.at).toBeGreaterThanOrEqual(w.successfulDelete()!.at);
    expect(complete.line).toContain('--lifecycle-action-result CONTINUE');
    expect(w.managerDeletes()).toHaveLength(1);
    expect(all(after, /^gitlab-runner got SIGQUIT/)).toHaveLength(1);
  });

  it('deregisters with a margin before the reclaim even while a job still runs', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '1200' }));
    await new Promise((r) => setTimeout(r, 300));

    const noticeAt = Date.now();
    w.imds.issueSpotNotice();
    await waitFor(() => w.successfulDelete() !== undefined);
    await agent.stop();

    const deletedAfter = w.successfulDelete()!.at - noticeAt;
    expect(deletedAfter).toBeGreaterThanOrEqual(1_200);
    expect(deletedAfter).toBeLessThan(30_000); // the job would run for 60 s
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual(['s_othermachine']);
  });

  it('deregisters well before the reclaim time the notice names, even when that is sooner than usual', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '60000' }));
    await new Promise((r) => setTimeout(r, 300));

    const noticeAt = Date.now();
    w.imds.issueSpotNotice(31_000); // reclaim in 31 s; the agent keeps a 30 s margin
    await waitFor(() => w.successfulDelete() !== undefined, 8_000);
    await agent.stop();

    expect(w.successfulDelete()!.at - noticeAt).toBeLessThan(20_000); // not 60 s
  });

  it('keeps retrying a GitLab outage within the notice window', async (ctx) => {
    const w = await World.create(ctx);
    w.gitlab.inject({ kind: 'status', status: 500, times: 2, path: /managers/ });
    w.gitlab.inject({ kind: 'reset', times: 1, path: /managers/ });
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '300' }));
    w.imds.issueSpotNotice();

    await waitFor(() => w.successfulDelete() !== undefined);
    await agent.stop();

    expect(w.managerDeletes().map((r) => r.status)).toEqual([500, 500, 0, 204]);
  });
});

describe.concurrent('drain agent secrecy', () => {
  it('never puts the runner token in argv, stdout, stderr or syslog', async (ctx) => {
    const w = await World.create(ctx);
    w.gitlab.inject({ kind: 'status', status: 500, times: 1, path: /managers/ });
    w.sandbox.setJobSeconds(0.5);
    w.sandbox.startRunner();
    w.imds.targetLifecycleState = 'Terminated';

    const result = await w.sandbox.run(AGENT, w.agentEnv());

    expect(result.code).toBe(0);
    expect(w.gitlab.rawBodies.some((b) => b.includes(w.token))).toBe(true); // it was sent to GitLab...
    for (const text of [
      result.stdout,
      result.stderr,
      w.sandbox
        .calls()
        .map((c) => c.line)
        .join('\n'),
    ]) {
      expect(text).not.toContain(w.token); // ...and nowhere else
    }
  });
});

describe.concurrent('drain agent forced shutdown on a spot reclaim', () => {
  it('sends SIGQUIT, deregisters, then SIGTERM so the runner fails the job (runner_system_failure) before the reclaim', async (ctx) => {
    const w = await World.create(ctx);
    // GIVEN a runner with a job that would need 60 s more, reporting 2 running jobs
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    w.imds.runnerJobs = 2;
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '800' }));
    await pause(300);

    // WHEN EC2 posts a spot notice, and later Auto Scaling starts the terminate action
    w.imds.issueSpotNotice();
    await waitFor(() => milestones(w).exited !== undefined);
    w.imds.targetLifecycleState = 'Terminated';
    const result = await agent.done;

    // THEN SIGQUIT < DELETE manager < SIGTERM (forced shutdown) < runner exit < lifecycle completion
    expect(result.code).toBe(0);
    const m = milestones(w);
    expect(m.sigquits).toHaveLength(1);
    expect(m.deleted!.at).toBeGreaterThanOrEqual(m.sigquits[0].at);
    expect(m.forceSignal!.at).toBeGreaterThanOrEqual(m.deleted!.at);
    expect(m.sigterm!.at).toBeGreaterThanOrEqual(m.forceSignal!.at);
    expect(m.exited!.at).toBeGreaterThanOrEqual(m.sigterm!.at);
    expect(m.complete!.at).toBeGreaterThanOrEqual(m.exited!.at);
    expect(result.stdout).toMatch(/forced shutdown \(spot reclaim\)/);
  });

  it('counts the notice and the jobs it failed in the fleet metric namespace', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    w.imds.runnerJobs = 2;
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '500' }));

    w.imds.issueSpotNotice();
    await waitFor(() => milestones(w).exited !== undefined);
    await waitFor(() => milestones(w).metrics.length >= 2);
    await agent.stop();

    const lines = milestones(w).metrics.map((c) => c.line);
    expect(lines).toHaveLength(2);
    const metric = (name: string) => lines.find((l) => l.includes(`--metric-name ${name} `));
    expect(metric('SpotInterruptionNotices')).toContain('--value 1 ');
    expect(metric('JobsFailedByReclaim')).toContain('--value 2 ');
    for (const line of lines) {
      expect(line).toContain('--namespace GitLabRunnerFleet');
      expect(line).toContain('--dimensions Fleet=graviton-spot');
    }
  });

  it('sends no SIGTERM when the jobs finished before the deregistration', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(0.3);
    w.sandbox.startRunner();
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '5000' }));

    w.imds.issueSpotNotice();
    await waitFor(() => w.successfulDelete() !== undefined);
    await pause(300);
    await agent.stop();

    expect(milestones(w).forceSignal).toBeUndefined();
    expect(milestones(w).exited!.at).toBeLessThanOrEqual(w.successfulDelete()!.at);
  });
});

describe.concurrent('drain agent: spot resilience scenarios', () => {
  it('acts on a spot notice that arrives while a terminate drain waits for a long job', async (ctx) => {
    const w = await World.create(ctx);
    // GIVEN a scale-in drain waiting for a job with a long time left (max job timeout 60 s)
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    w.imds.targetLifecycleState = 'Terminated';
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '800', GRF_MAX_JOB_TIMEOUT_MS: '60000' }));
    await waitFor(() => milestones(w).heartbeats.length >= 1);

    // WHEN EC2 posts a spot notice
    const noticeAt = Date.now();
    w.imds.issueSpotNotice();
    const result = await agent.done;

    // THEN the drain deadline shrinks to the spot one: deregister, force-stop, complete, long before 30 s
    expect(result.code).toBe(0);
    const m = milestones(w);
    expect(m.sigquits).toHaveLength(1);
    expect(m.heartbeats[0].at).toBeGreaterThanOrEqual(m.sigquits[0].at);
    expect(m.heartbeats[0].at).toBeLessThanOrEqual(m.deleted!.at);
    expect(m.deleted!.at - noticeAt).toBeLessThan(20_000); // not the 60 s max job timeout
    expect(m.forceSignal!.at).toBeGreaterThanOrEqual(m.deleted!.at);
    expect(m.sigterm!.at).toBeGreaterThanOrEqual(m.forceSignal!.at);
    expect(m.complete!.at).toBeGreaterThanOrEqual(m.exited!.at);
    expect(result.stdout).toMatch(/drain deadline brought forward to the spot deadline/);
  });

  it('a restarted agent resumes a spot drain it had started: it deregisters and force-stops, without a second SIGQUIT', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(60);
    w.sandbox.startRunner();
    const env = w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '1500' });
    const crashed = w.sandbox.start(AGENT, env);
    // GIVEN an agent that saw the notice and sent SIGQUIT, then died before deregistering
    w.imds.issueSpotNotice();
    await waitFor(() => milestones(w).sigquits.length === 1);
    await crashed.stop();
    expect(w.managerDeletes()).toHaveLength(0);

    // WHEN systemd restarts it, and later Auto Scaling starts the terminate action
    const restarted = w.sandbox.start(AGENT, env);
    await waitFor(() => milestones(w).exited !== undefined);
    w.imds.targetLifecycleState = 'Terminated';
    const result = await restarted.done;

    // THEN the restarted agent finishes the spot path in order
    expect(result.code).toBe(0);
    const m = milestones(w);
    expect(all(w.sandbox.calls(), /^systemctl stop/)).toHaveLength(1);
    expect(m.sigquits).toHaveLength(1);
    expect(m.deleted!.at).toBeGreaterThanOrEqual(m.sigquits[0].at);
    expect(m.sigterm!.at).toBeGreaterThanOrEqual(m.deleted!.at);
    expect(m.complete!.at).toBeGreaterThanOrEqual(m.exited!.at);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual(['s_othermachine']);
  });

  it('a restarted agent resumes a terminate drain: no second SIGQUIT, heartbeats on, and the original deadline', async (ctx) => {
    const w = await World.create(ctx);
    // GIVEN an agent draining for a scale-in (60 s max job timeout) that dies 2 s in, with the job 8 s from done
    w.sandbox.setJobSeconds(8);
    w.sandbox.startRunner();
    w.imds.targetLifecycleState = 'Terminated';
    const crashed = w.sandbox.start(AGENT, w.agentEnv({ GRF_MAX_JOB_TIMEOUT_MS: '60000' }));
    await waitFor(() => milestones(w).heartbeats.length >= 1);
    await pause(2_000);
    await crashed.stop();
    const restartedAt = Date.now();

    // WHEN systemd restarts it
    const result = await w.sandbox.run(AGENT, w.agentEnv({ GRF_MAX_JOB_TIMEOUT_MS: '60000' }), 60_000);

    // THEN it heartbeats again, counts down from the first agent's deadline, and drains in order
    expect(result.code).toBe(0);
    const m = milestones(w);
    expect(all(w.sandbox.calls(), /^systemctl stop/)).toHaveLength(1);
    expect(m.sigquits).toHaveLength(1);
    expect(m.heartbeats.some((h) => h.at >= restartedAt)).toBe(true);
    const secondsLeft = Number(/waiting for running jobs to finish \(jobs=\w+, (\d+)s left\)/.exec(result.stdout)![1]);
    expect(secondsLeft).toBeLessThanOrEqual(58); // a fresh deadline would say 59 or 60
    // The drain duration also counts from the first agent's start: the job alone took 8 s after SIGQUIT.
    const drain = m.metrics.map((c) => /--metric-name DrainSeconds .*--value (\d+) /.exec(c.line)).find(Boolean);
    expect(Number(drain![1])).toBeGreaterThanOrEqual(8);
    expect(m.deleted!.at).toBeGreaterThanOrEqual(m.exited!.at);
    expect(m.complete!.at).toBeGreaterThanOrEqual(m.deleted!.at);
    expect(m.forceSignal).toBeUndefined();
  });

  it('retries a deregistration that gave up during a spot drain when the terminate action starts', async (ctx) => {
    const w = await World.create(ctx);
    // GIVEN GitLab failing through the whole spot window
    w.gitlab.inject({ kind: 'status', status: 502, times: 10_000, path: /managers/ });
    const agent = w.sandbox.start(AGENT, w.agentEnv({ GRF_SPOT_DEREGISTER_AFTER_MS: '200', GRF_SPOT_DEREGISTER_MARGIN_MS: '400' }));
    w.imds.issueSpotNotice();
    await waitFor(() => /GIVING UP deregistering/.test(agent.stdout()));

    // WHEN GitLab is back and Auto Scaling starts the terminate action
    w.gitlab.clearFaults();
    const terminatedAt = Date.now();
    w.imds.targetLifecycleState = 'Terminated';
    const result = await agent.done;

    // THEN the agent deregisters on that trigger, then completes the action
    expect(result.code).toBe(0);
    const statuses = w.managerDeletes().map((r) => r.status);
    expect(statuses.slice(0, -1).every((s) => s === 502)).toBe(true);
    expect(statuses.at(-1)).toBe(204);
    const m = milestones(w);
    expect(m.deleted!.at).toBeGreaterThanOrEqual(terminatedAt);
    expect(m.complete!.at).toBeGreaterThanOrEqual(m.deleted!.at);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual(['s_othermachine']);
  });

  it('counts a rebalance recommendation, keeps running jobs, and drains normally on the terminate that follows', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setJobSeconds(1);
    w.sandbox.startRunner();
    const agent = w.sandbox.start(AGENT, w.agentEnv());
    // GIVEN a rebalance recommendation (capacity rebalancing launches a replacement first)
    w.imds.issueRebalanceRecommendation();
    await waitFor(() => milestones(w).metrics.length === 1);
    await pause(300);
    expect(milestones(w).sigquits).toHaveLength(0);

    // WHEN Auto Scaling terminates the at-risk instance through the terminate hook
    w.imds.targetLifecycleState = 'Terminated';
    const result = await agent.done;

    // THEN the usual drain: SIGQUIT, heartbeats, job finishes, DELETE, CONTINUE; no forced shutdown
    expect(result.code).toBe(0);
    const m = milestones(w);
    expect(m.metrics.map((c) => c.line)).toEqual([
      expect.stringContaining('--metric-name SpotRebalanceRecommendations '),
      expect.stringContaining('--metric-name DrainSeconds '),
    ]);
    expect(m.sigquits).toHaveLength(1);
    expect(m.heartbeats[0].at).toBeGreaterThanOrEqual(m.sigquits[0].at);
    expect(m.deleted!.at).toBeGreaterThanOrEqual(m.exited!.at);
    expect(m.complete!.at).toBeGreaterThanOrEqual(m.deleted!.at);
    expect(m.forceSignal).toBeUndefined();
  });
});
