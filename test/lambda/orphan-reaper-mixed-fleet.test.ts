/**
 * The orphan reaper in a mixed fleet (spot with an on-demand floor) that has two GitLab runners:
 * its on-demand instances register with the second, computetype-ondemand runner, so an orphaned
 * on-demand manager is only found by listing that runner, and only removed with its token.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type DescribeInstancesCommandInput } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { autoScalingGroupName, systemIdForInstance } from '../../lib/identity/runner-identity';
import { reapOrphans, type OrphanReaperDeps } from '../../lib/lambda/orphan-reaper/handler';
import { fleetRunnerTokens } from '../../lib/lambda/orphan-reaper/survey';
import type { HandlerConfig } from '../../lib/lambda/shared/handler-config';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, LOOPBACK_TIMEOUT_MS, type FakeRunner } from '../support/fake-gitlab';

const NOW = new Date('2026-11-25T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const API_SECRET = 'gitlab-runner-fleet/api-token';
const SPOT_SECRET = 'gitlab-runner-fleet/mixed/runner-token';
const ON_DEMAND_SECRET = 'gitlab-runner-fleet/mixed/runner-token-ondemand';
const GROUP = autoScalingGroupName('mixed');
const LIVE_SPOT = 'i-0aaaaaaaaaaaaaaa1';
const LIVE_ON_DEMAND = 'i-0aaaaaaaaaaaaaaa2';
const GONE_ON_DEMAND = 'i-0bbbbbbbbbbbbbbb3';
const GONE_SPOT = 'i-0bbbbbbbbbbbbbbb4';

describe('orphan reaper in a mixed fleet with an on-demand runner', () => {
  let gitlab: FakeGitLab;
  let spot: FakeRunner;
  let onDemand: FakeRunner;
  let apiToken: string;
  let secretValues: Map<string, string>;
  let logs: string[];
  const { ec2, autoScaling, secrets, ec2Mock, asgMock, secretsMock, resetAwsMocks } = mockedAwsClients();

  const deps = (): OrphanReaperDeps => ({
    config: {
      gitlabUrl: gitlab.url,
      fleets: [{ name: 'mixed', autoScalingGroupName: GROUP, tokenSecretName: SPOT_SECRET, onDemandTokenSecretName: ON_DEMAND_SECRET }],
      apiTokenSecretName: API_SECRET,
      graceMinutes: 30,
    } satisfies HandlerConfig,
    autoScaling,
    ec2,
    gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} }),
    tokens: () => new SecretsManagerTokens(secrets),
    now: () => NOW,
  });

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    spot = gitlab.addRunner(fakeRunnerToken('mixedspot'), { id: 71 });
    onDemand = gitlab.addRunner(fakeRunnerToken('mixedondemand'), { id: 72 });
    apiToken = ['glpat', 'reaperreaderxxxxxxxx'].join('-');
    gitlab.allowApiToken(apiToken, ['read_api']);
    resetAwsMocks();
    secretValues = new Map([
      [API_SECRET, apiToken],
      [SPOT_SECRET, spot.token],
      [ON_DEMAND_SECRET, onDemand.token],
    ]);
    secretsMock.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
      const value = secretValues.get(input.SecretId);
      if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      return { SecretString: value };
    });
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: GROUP, Instances: [{ InstanceId: LIVE_SPOT }, { InstanceId: LIVE_ON_DEMAND }] }],
    } as never);
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      const byGroup = input.Filters?.some((f) => f.Name === 'tag:aws:autoscaling:groupName');
      return { Reservations: byGroup ? [{ Instances: [{ InstanceId: LIVE_SPOT }, { InstanceId: LIVE_ON_DEMAND }] }] : [] };
    });
    logs = [];
    const capture = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    const everything = logs.join('\n');
    for (const token of [apiToken, spot.token, onDemand.token]) expect(everything).not.toContain(token);
    await gitlab.stop();
  });

  it('removes an orphaned manager of the on-demand runner', async () => {
    gitlab.addManager(onDemand, systemIdForInstance(GONE_ON_DEMAND), hoursAgo(3), hoursAgo(2));

    const report = await reapOrphans(deps());

    expect(gitlab.managerSystemIds(onDemand)).toEqual([]);
    expect(report.removed).toEqual([
      expect.objectContaining({ fleet: 'mixed', runnerId: onDemand.id, systemId: systemIdForInstance(GONE_ON_DEMAND), result: 'deleted' }),
    ]);
  });

  it("removes each runner's orphans with that runner's own token", async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE_SPOT), hoursAgo(3), hoursAgo(2));
    gitlab.addManager(onDemand, systemIdForInstance(GONE_ON_DEMAND), hoursAgo(3), hoursAgo(2));

    const report = await reapOrphans(deps());

    expect(report.removed.map((r) => [r.runnerId, r.result])).toEqual([
      [spot.id, 'deleted'],
      [onDemand.id, 'deleted'],
    ]);
    expect(gitlab.requests.filter((r) => r.path === '/api/v4/runners/managers').map((r) => r.status)).toEqual([204, 204]);
  });

  it('keeps the managers of live instances on both runners, counting them as kept', async () => {
    gitlab.addManager(spot, systemIdForInstance(LIVE_SPOT), hoursAgo(30), hoursAgo(20));
    gitlab.addManager(onDemand, systemIdForInstance(LIVE_ON_DEMAND), hoursAgo(30), hoursAgo(20));

    const report = await reapOrphans(deps());

    expect(report.removed).toEqual([]);
    expect(report.kept).toEqual({ mixed: 2 });
    expect(gitlab.managerSystemIds(onDemand)).toEqual([systemIdForInstance(LIVE_ON_DEMAND)]);
  });

  it('skips the whole fleet, deciding nothing, when the on-demand token cannot be read', async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE_SPOT), hoursAgo(3), hoursAgo(2));
    secretValues.delete(ON_DEMAND_SECRET);

    const report = await reapOrphans(deps());

    expect(report.removed).toEqual([]);
    expect(gitlab.managerSystemIds(spot)).toEqual([systemIdForInstance(GONE_SPOT)]);
    expect(report.skipped).toEqual([
      expect.objectContaining({
        fleet: 'mixed',
        failed: true,
        reason: expect.stringContaining(`on-demand runner (secret ${ON_DEMAND_SECRET})`),
      }),
    ]);
  });
});

describe('fleetRunnerTokens', () => {
  it('gives a mixed fleet its spot runner first, then its on-demand runner', () => {
    expect(fleetRunnerTokens({ tokenSecretName: SPOT_SECRET, onDemandTokenSecretName: ON_DEMAND_SECRET })).toEqual([
      { tokenSecretName: SPOT_SECRET, onDemand: false },
      { tokenSecretName: ON_DEMAND_SECRET, onDemand: true },
    ]);
  });

  it('surveys one runner when the on-demand secret is the fleet secret itself, so no manager is listed twice', () => {
    expect(fleetRunnerTokens({ tokenSecretName: SPOT_SECRET, onDemandTokenSecretName: SPOT_SECRET })).toEqual([
      { tokenSecretName: SPOT_SECRET, onDemand: false },
    ]);
  });
});
