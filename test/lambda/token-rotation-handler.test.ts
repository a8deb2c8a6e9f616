/**
 * The scheduled token rotation, step by step as its Step Functions workflow runs it (start,
 * then check after each wait), against the fake GitLab over loopback, mocked Secrets Manager
 * and Auto Scaling clients driving a simulated fleet whose instances run jobs, drain through
 * the terminate hook and deregister after they end. Time passes only between steps.
 * Every test also checks that no token reached a log line, an answer or an error.
 */
import { DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseFleetConfig } from '../../lib/config';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { handlerConfig } from '../../lib/lambda/shared/handler-config';
import { createTokenRotationHandler } from '../../lib/lambda/token-rotation/handler';
import type { RotationStepResult } from '../../lib/lambda/token-rotation/core';
import { rotationTarget } from '../../lib/rotation/rotation-target';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner } from '../support/fake-gitlab';
import { SimulatedFleet } from '../support/simulated-fleet';

const ACCESS_SECRET = 'gitlab-runner-fleet/access-token';
const SPOT_SECRET = 'gitlab-runner-fleet/mixed/runner-token';
const ON_DEMAND_SECRET = 'gitlab-runner-fleet/mixed/runner-token-ondemand';
const START = new Date('2026-03-17T02:41:00Z');

const config = parseFleetConfig({
  gitlab: { url: 'https://gitlab.example.com' },
  fleets: [
    {
      name: 'mixed',
      computeType: 'spot',
      instanceTypes: ['m7g.large'],
      capacity: { max: 6, desired: 4 },
      onDemandBase: 1,
      minHealthyPercentage: 75,
      maxJobTimeoutMinutes: 60,
      gitlabRunner: { scope: 'group', group: 'my-org/platform', accessTokenSecretName: ACCESS_SECRET, rotation: {} },
    },
  ],
});
const fleetSpec = config.fleets[0];
const TIMEOUT_MINUTES = 600;

describe('scheduled token rotation (token-rotation Lambda)', () => {
  let gitlab: FakeGitLab;
  let oldSpot: FakeRunner;
  let oldOnDemand: FakeRunner;
  let accessToken: string;
  let secrets: Map<string, string>;
  let fleet: SimulatedFleet;
  let logs: string[];
  let answers: string[];
  let now: Date;
  const aws = mockedAwsClients('eu-west-1');
  let handler: ReturnType<typeof createTokenRotationHandler>;

  /** Runs the workflow: start, then wait (one fleet tick, `minutesPerCheck` on the clock) and check until done or failed. */
  const runWorkflow = async (maxChecks = 400, minutesPerCheck = 1): Promise<RotationStepResult> => {
    let result = await handler({ action: 'start' });
    answers.push(JSON.stringify(result));
    for (let i = 0; i < maxChecks && (result.phase === 'refreshing' || result.phase === 'draining'); i++) {
      fleet.tick();
      now = new Date(now.getTime() + minutesPerCheck * 60_000);
      result = await handler({ action: 'check', rotation: result.rotation });
      answers.push(JSON.stringify(result));
    }
    return result;
  };

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    gitlab.namespaces.group.set('my-org/platform', 321);
    accessToken = ['glpat', 'scheduledrotator00000'].join('-');
    gitlab.allowApiToken(accessToken, ['create_runner', 'manage_runner', 'read_api']);
    oldSpot = gitlab.addRunner(fakeRunnerToken('oldspot'), {
      id: 41,
      description: 'gitlab-runner-fleet mixed (spot) in 123456789012/eu-west-1',
      tag_list: ['computetype-spot', 'arm64', 'docker'],
    });
    oldOnDemand = gitlab.addRunner(fakeRunnerToken('oldondemand'), {
      id: 42,
      description: 'gitlab-runner-fleet mixed (on-demand) in 123456789012/eu-west-1',
      tag_list: ['computetype-ondemand', 'arm64', 'docker'],
    });
    secrets = new Map([
      [ACCESS_SECRET, accessToken],
      [SPOT_SECRET, oldSpot.token],
      [ON_DEMAND_SECRET, oldOnDemand.token],
    ]);
    fleet = new SimulatedFleet(gitlab, secrets, { spot: SPOT_SECRET, 'on-demand': ON_DEMAND_SECRET });
    fleet.boot('on-demand', 4);
    for (let i = 0; i < 3; i++) fleet.boot('spot', 2 + i);
    now = START;
    logs = [];
    answers = [];
    const capture = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);

    aws.resetAwsMocks();
    aws.secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({ SecretString: secrets.get(input.SecretId) }));
    aws.secretsMock.on(PutSecretValueCommand).callsFake((input: { SecretId: string; SecretString: string }) => {
      secrets.set(input.SecretId, input.SecretString);
      return {};
    });
    aws.asgMock.on(StartInstanceRefreshCommand).callsFake(() => {
      fleet.refreshing = true;
      return { InstanceRefreshId: 'refresh-7' };
    });
    aws.asgMock
      .on(DescribeInstanceRefreshesCommand)
      .callsFake(() => ({ InstanceRefreshes: [{ InstanceRefreshId: 'refresh-7', Status: fleet.refreshStatus() }] }));

    const client = new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 5000, maxAttempts: 2, sleep: async () => {} });
    handler = createTokenRotationHandler(() => ({
      config: handlerConfig([fleetSpec], config.gitlab, {
        rotation: { target: rotationTarget(fleetSpec), timeoutMinutes: TIMEOUT_MINUTES },
      }),
      gitlab: client,
      secrets: aws.secrets,
      autoScaling: aws.autoScaling,
      now: () => now,
    }));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    const everything = [...logs, ...answers].join('\n');
    expect(everything).not.toContain(accessToken);
    for (const runner of gitlab.runners) expect(everything).not.toContain(runner.token);
    for (const token of [oldSpot.token, oldOnDemand.token]) expect(everything).not.toContain(token);
    expect(everything).not.toMatch(/glrt-[A-Za-z0-9_-]{4,}/);
    await gitlab.stop();
  });

  it('ends with the new tokens on every instance, no job interrupted and both old runners deleted', async () => {
    const result = await runWorkflow();

    expect(result.phase).toBe('done');
    const newSpot = secrets.get(SPOT_SECRET)!;
    const newOnDemand = secrets.get(ON_DEMAND_SECRET)!;
    expect([newSpot, newOnDemand]).not.toContain(oldSpot.token);
    expect([newSpot, newOnDemand]).not.toContain(oldOnDemand.token);
    expect(fleet.instances).toHaveLength(4);
    expect(fleet.instances.filter((i) => i.computeType === 'spot').every((i) => i.token === newSpot)).toBe(true);
    expect(fleet.instances.filter((i) => i.computeType === 'on-demand').every((i) => i.token === newOnDemand)).toBe(true);
    expect(fleet.interruptedJobs).toBe(0);
    expect(gitlab.runner(41)).toBeUndefined();
    expect(gitlab.runner(42)).toBeUndefined();
    expect(gitlab.runners.map((r) => [r.tag_list[0], r.group_id, r.description])).toEqual([
      ['computetype-spot', 321, 'gitlab-runner-fleet mixed (spot) in 123456789012/eu-west-1'],
      ['computetype-ondemand', 321, 'gitlab-runner-fleet mixed (on-demand) in 123456789012/eu-west-1'],
    ]);
    expect(aws.asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(1);
    expect(aws.asgMock.commandCalls(StartInstanceRefreshCommand)[0].args[0].input).toMatchObject({
      AutoScalingGroupName: 'gitlab-runner-fleet-mixed',
      Strategy: 'Rolling',
      Preferences: { MinHealthyPercentage: 75, SkipMatching: false },
    });
  });

  it('deletes each old runner only after its last manager is gone', async () => {
    await runWorkflow();

    for (const id of [41, 42]) {
      const lists = gitlab.requests.filter((r) => r.path === `/api/v4/runners/${id}/managers`);
      const deletion = gitlab.requests.findIndex((r) => r.method === 'DELETE' && r.path === `/api/v4/runners/${id}`);
      expect(deletion).toBeGreaterThan(gitlab.requests.indexOf(lists.at(-1)!));
    }
    // The refresh is over while the last drained instance still deregisters: one check had to wait.
    expect(answers.some((a) => JSON.parse(a).phase === 'draining')).toBe(true);
  });

  it('answers with ids, the refresh id and the deadline only', async () => {
    const started = await handler({ action: 'start' });

    expect(started).toEqual({
      phase: 'refreshing',
      message: 'mixed: instance refresh refresh-7 started',
      rotation: {
        refreshId: 'refresh-7',
        startedAt: START.toISOString(),
        deadline: new Date(START.getTime() + TIMEOUT_MINUTES * 60_000).toISOString(),
        runners: [
          { computeType: 'spot', oldId: 41, newId: expect.any(Number), oldDeleted: false },
          { computeType: 'on-demand', oldId: 42, newId: expect.any(Number), oldDeleted: false },
        ],
      },
    });
    answers.push(JSON.stringify(started));
  });

  it('rolls back when a step fails before the refresh: old tokens back in the secrets, new runners deleted, no refresh', async () => {
    aws.secretsMock.on(PutSecretValueCommand).callsFake((input: { SecretId: string; SecretString: string }) => {
      if (input.SecretId === ON_DEMAND_SECRET && input.SecretString !== oldOnDemand.token) throw new Error('AccessDeniedException');
      secrets.set(input.SecretId, input.SecretString);
      return {};
    });

    await expect(handler({ action: 'start' })).rejects.toThrow('AccessDeniedException');

    expect(secrets.get(SPOT_SECRET)).toBe(oldSpot.token);
    expect(secrets.get(ON_DEMAND_SECRET)).toBe(oldOnDemand.token);
    expect(gitlab.runners.map((r) => r.id)).toEqual([41, 42]);
    expect(aws.asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    // The fleet keeps working: a new instance still registers with the old token.
    expect(fleet.boot('spot', 1).token).toBe(oldSpot.token);
    expect(logs.join('\n')).toContain('holds the token of runner 41 again');
  });

  it('rolls back when the group is already refreshing, and fails with the AWS reason', async () => {
    aws.asgMock
      .on(StartInstanceRefreshCommand)
      .rejects(Object.assign(new Error('An Instance Refresh is already in progress'), { name: 'InstanceRefreshInProgressFault' }));

    await expect(handler({ action: 'start' })).rejects.toThrow(
      /InstanceRefreshInProgressFault: An Instance Refresh is already in progress/,
    );

    expect(secrets.get(SPOT_SECRET)).toBe(oldSpot.token);
    expect(secrets.get(ON_DEMAND_SECRET)).toBe(oldOnDemand.token);
    expect(gitlab.runners.map((r) => r.id)).toEqual([41, 42]);
  });

  it('keeps a new runner that an instance already registered with while the start failed', async () => {
    aws.asgMock.on(StartInstanceRefreshCommand).callsFake(() => {
      fleet.boot('spot', 1);
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    });

    await expect(handler({ action: 'start' })).rejects.toThrow('Rate exceeded');

    const scaledOut = fleet.instances.at(-1)!;
    expect(secrets.get(SPOT_SECRET)).toBe(scaledOut.token);
    expect(gitlab.runners.some((r) => r.token === scaledOut.token)).toBe(true);
    expect(gitlab.runner(41)).toBeDefined();
    expect(secrets.get(ON_DEMAND_SECRET)).toBe(oldOnDemand.token);
  });

  it('keeps the old runners (both tokens work) and fails when the instance refresh fails', async () => {
    fleet.refreshFails = true;

    const result = await runWorkflow();

    expect(result.phase).toBe('failed');
    expect(result.message).toBe('mixed: instance refresh refresh-7 is Failed; old runners 41, 42 are kept');
    expect(gitlab.runner(41)).toBeDefined();
    expect(gitlab.runner(42)).toBeDefined();
    expect(fleet.interruptedJobs).toBe(0);
  });

  it('fails after its deadline when a manager of an old runner never goes away, keeping that runner', async () => {
    // A machine of the old runner that the group does not know (the orphan reaper's case).
    gitlab.addManager(oldSpot, 'r_stray0000000');

    const result = await runWorkflow(100, 10);

    expect(result.phase).toBe('failed');
    expect(result.message).toMatch(/^mixed: not finished by .*: mixed: old runner 41 still has 1 manager\(s\) \(r_stray0000000\); kept\./);
    expect(result.message).toContain('runner-fleet rotate-token mixed');
    expect(gitlab.runner(41)).toBeDefined();
    expect(gitlab.runner(42)).toBeUndefined();
  });

  it('names the secret and the scopes when the access token may not create runners, and changes nothing', async () => {
    gitlab.allowApiToken(accessToken, ['read_api']);

    const error = await handler({ action: 'start' }).catch((e: unknown) => e as Error);

    expect(error.message).toContain(`the access token in secret ${ACCESS_SECRET} is missing the create_runner and manage_runner scopes`);
    expect(secrets.get(SPOT_SECRET)).toBe(oldSpot.token);
    expect(gitlab.runners).toHaveLength(2);
    answers.push(error.message);
  });

  it('refuses a GitLab older than 17.1 in one line before creating anything', async () => {
    gitlab.version = '16.11.2-ee';

    const error = await handler({ action: 'start' }).catch((e: unknown) => e as Error);

    expect(error.message).toMatch(/16\.11\.2-ee/);
    expect(error.message).toMatch(/17\.1/);
    expect(gitlab.runners.map((r) => r.id)).toEqual([41, 42]);
    expect(secrets.get(SPOT_SECRET)).toBe(oldSpot.token);
    answers.push(error.message);
  });

  it('says the access token is invalid on a 401, and changes nothing', async () => {
    gitlab.allowApiToken(accessToken, []);
    secrets.set(ACCESS_SECRET, ['glpat', 'revoked00000000000000'].join('-'));

    const error = await handler({ action: 'start' }).catch((e: unknown) => e as Error);

    expect(error.message).toContain(`the access token in secret ${ACCESS_SECRET} is invalid, expired or revoked`);
    expect(error.message).not.toContain('revoked00000000000000');
    expect(secrets.get(SPOT_SECRET)).toBe(oldSpot.token);
    answers.push(error.message);
  });

  it('rolls back when AWS starts no refresh id, and reports an unknown refresh state as still refreshing', async () => {
    aws.asgMock.on(StartInstanceRefreshCommand).resolves({});

    await expect(handler({ action: 'start' })).rejects.toThrow('StartInstanceRefresh of gitlab-runner-fleet-mixed returned no refresh id');
    expect(secrets.get(SPOT_SECRET)).toBe(oldSpot.token);

    aws.asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'refresh-8' });
    aws.asgMock.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
    const started = await handler({ action: 'start' });
    const checked = await handler({ action: 'check', rotation: started.rotation });
    expect(checked).toMatchObject({
      phase: 'refreshing',
      message: 'mixed: instance refresh refresh-8 is Unknown; old runners 41, 42 are kept',
    });
    answers.push(JSON.stringify(checked));
  });

  it('scrubs a token that reaches an error message', async () => {
    aws.secretsMock.on(PutSecretValueCommand).callsFake((input: { SecretString: string }) => {
      throw new Error(`refused value ${input.SecretString}`);
    });

    const error = await handler({ action: 'start' }).catch((e: unknown) => e as Error);

    expect(error.message).toMatch(/^Error: refused value \[redacted/);
    answers.push(error.message);
  });

  it('rejects a check without a rotation state, naming the fields', async () => {
    await expect(handler({ action: 'check', rotation: { refreshId: 'r' } })).rejects.toThrow(
      /rotation.startedAt must be a non-empty string; rotation.deadline must be a non-empty string; rotation.runners must be a non-empty list/,
    );
    await expect(handler({ action: 'rotate' })).rejects.toThrow('action must be start or check, got "rotate"');
  });

  it('fails clearly without a rotation section in its configuration', async () => {
    const bare = createTokenRotationHandler(() => ({
      config: handlerConfig([fleetSpec], config.gitlab),
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url }),
      secrets: aws.secrets,
      autoScaling: aws.autoScaling,
    }));

    await expect(bare({ action: 'start' })).rejects.toThrow('handler-config.json has no rotation section');
  });
});
