import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type DescribeInstancesCommandInput } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { autoScalingGroupName, systemIdForInstance } from '../../lib/identity/runner-identity';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { handler, reapOrphans, type OrphanReaperDeps } from '../../lib/lambda/orphan-reaper/handler';
import { runtimeClients } from '../../lib/lambda/shared/runtime';
import type { HandlerConfig } from '../../lib/lambda/shared/handler-config';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner, LOOPBACK_TIMEOUT_MS } from '../support/fake-gitlab';

// The Lambda entry point builds its clients from the config beside the bundle; here they come from the test.
vi.mock('../../lib/lambda/shared/runtime', () => ({ runtimeClients: vi.fn() }));

const NOW = new Date('2026-11-25T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const API_SECRET = 'gitlab-runner-fleet/api-token';
const LIVE = 'i-0aaaaaaaaaaaaaaa1';
const GONE = 'i-0bbbbbbbbbbbbbbb2';
const DETACHED = 'i-0ccccccccccccccc3';
const fleets = ['alpha', 'beta'].map((name) => ({
  name,
  autoScalingGroupName: autoScalingGroupName(name),
  tokenSecretName: `gitlab-runner-fleet/${name}/runner-token`,
}));

describe('orphan reaper', () => {
  let gitlab: FakeGitLab;
  let alpha: FakeRunner;
  let beta: FakeRunner;
  let tokens: Record<string, string>;
  let apiToken: string;
  let output: string[];
  const { ec2, autoScaling, secrets, ec2Mock, asgMock, secretsMock, resetAwsMocks } = mockedAwsClients();
  let instancesByGroup: Record<string, string[]>;
  let instancesByFleetTag: Record<string, string[]>;

  const deps = (): OrphanReaperDeps => ({
    config: { gitlabUrl: gitlab.url, fleets, apiTokenSecretName: API_SECRET, graceMinutes: 30 } satisfies HandlerConfig,
    autoScaling,
    ec2,
    gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} }),
    tokens: () => new SecretsManagerTokens(secrets),
    now: () => NOW,
  });

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    tokens = { alpha: fakeRunnerToken('alpha'), beta: fakeRunnerToken('beta') };
    apiToken = ['glpat', 'reaperreaderxxxxxxxx'].join('-');
    gitlab.allowApiToken(apiToken);
    alpha = gitlab.addRunner(tokens.alpha);
    beta = gitlab.addRunner(tokens.beta);
    resetAwsMocks();
    secretsMock.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
      if (input.SecretId === API_SECRET) return { SecretString: apiToken };
      const fleet = fleets.find((f) => f.tokenSecretName === input.SecretId);
      if (!fleet) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      return { SecretString: tokens[fleet.name] };
    });
    instancesByGroup = { [fleets[0].autoScalingGroupName]: [LIVE], [fleets[1].autoScalingGroupName]: [] };
    instancesByFleetTag = {};
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
      AutoScalingGroups: input.AutoScalingGroupNames.filter((n) => n in instancesByGroup).map((n) => ({
        AutoScalingGroupName: n,
        Instances: instancesByGroup[n].map((id) => ({ InstanceId: id })),
      })),
    }));
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      const groupFilter = input.Filters?.find((f) => f.Name === 'tag:aws:autoscaling:groupName');
      const fleetFilter = input.Filters?.find((f) => f.Name === 'tag:gitlab-runner-fleet:fleet');
      const ids = groupFilter ? (instancesByGroup[groupFilter.Values![0]] ?? []) : (instancesByFleetTag[fleetFilter!.Values![0]] ?? []);
      return { Reservations: [{ Instances: ids.map((InstanceId) => ({ InstanceId })) }] };
    });
    output = [];
    const capture = (...args: unknown[]) => void output.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gitlab.stop();
  });

  it('removes a manager whose instance is gone and which is older than the grace period', async () => {
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const report = await reapOrphans(deps());

    expect(gitlab.managerSystemIds(alpha)).toEqual([]);
    expect(report.removed).toEqual([
      expect.objectContaining({
        fleet: 'alpha',
        systemId: systemIdForInstance(GONE),
        result: 'deleted',
        reason: expect.stringContaining('no existing instance'),
      }),
    ]);
  });

  it('never removes the manager of an instance that still exists', async () => {
    gitlab.addManager(alpha, systemIdForInstance(LIVE), hoursAgo(300), hoursAgo(200));

    const report = await reapOrphans(deps());

    expect(gitlab.managerSystemIds(alpha)).toEqual([systemIdForInstance(LIVE)]);
    expect(report.removed).toEqual([]);
    expect(report.kept).toMatchObject({ alpha: 1 });
  });

  it('keeps a manager whose instance only the fleet tag still finds (detached or in standby)', async () => {
    instancesByFleetTag = { alpha: [DETACHED] };
    gitlab.addManager(alpha, systemIdForInstance(DETACHED), hoursAgo(3), hoursAgo(2));

    await reapOrphans(deps());

    expect(gitlab.managerSystemIds(alpha)).toEqual([systemIdForInstance(DETACHED)]);
  });

  it('keeps a manager younger than the grace period', async () => {
    gitlab.addManager(alpha, systemIdForInstance(GONE), new Date(NOW.getTime() - 10 * 60_000), null);

    await reapOrphans(deps());

    expect(gitlab.managerSystemIds(alpha)).toEqual([systemIdForInstance(GONE)]);
  });

  it('skips a fleet when listing its instances fails, and still reaps the other fleets', async () => {
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    gitlab.addManager(beta, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      if (input.Filters?.some((f) => f.Values?.includes(fleets[0].autoScalingGroupName)))
        throw Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
      return { Reservations: [] };
    });

    const report = await reapOrphans(deps());

    expect(gitlab.managerSystemIds(alpha)).toEqual([systemIdForInstance(GONE)]);
    expect(gitlab.managerSystemIds(beta)).toEqual([]);
    expect(report.skipped).toEqual([{ fleet: 'alpha', reason: expect.stringContaining('listing instances failed'), failed: true }]);
  });

  it('skips, without calling it a failure, a fleet whose group is not deployed', async () => {
    delete instancesByGroup[fleets[1].autoScalingGroupName];
    gitlab.addManager(beta, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const report = await reapOrphans(deps());

    expect(gitlab.managerSystemIds(beta)).toEqual([systemIdForInstance(GONE)]);
    expect(report.skipped).toEqual([{ fleet: 'beta', reason: expect.stringContaining('does not exist'), failed: false }]);
  });

  it('skips a fleet when GitLab refuses to list its managers (an unknown token: 401, as GitLab answers)', async () => {
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    apiToken = ['glpat', 'notallowedxxxxxxxxxx'].join('-');

    const report = await reapOrphans(deps());

    expect(gitlab.managerSystemIds(alpha)).toEqual([systemIdForInstance(GONE)]);
    expect(report.skipped.map((s) => s.reason)).toEqual([expect.stringContaining('HTTP 401'), expect.stringContaining('HTTP 401')]);
  });

  it('reports a deletion that failed and goes on with the next orphan', async () => {
    const other = 'i-0ddddddddddddddd4';
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    gitlab.addManager(alpha, systemIdForInstance(other), hoursAgo(3), hoursAgo(2));
    gitlab.inject({ kind: 'status', status: 500, times: 2, path: /^\/api\/v4\/runners\/managers$/ });

    const report = await reapOrphans(deps());

    expect(report.failed).toHaveLength(1);
    expect(report.removed).toHaveLength(1);
  });

  it('never deletes a whole runner', async () => {
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    await reapOrphans(deps());

    expect(gitlab.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/v4/runners')).toEqual([]);
  });

  it('never writes runner or API tokens to the logs', async () => {
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    await reapOrphans(deps());
    gitlab.inject({ kind: 'status', status: 500, times: 100 });
    await reapOrphans(deps());

    const logs = output.join('\n');
    expect(logs).toContain('orphan removed');
    for (const secret of [tokens.alpha, tokens.beta, apiToken]) expect(logs).not.toContain(secret);
  });

  it('refuses to run without apiTokenSecretName, naming the field', async () => {
    const { apiTokenSecretName: _omitted, ...config } = deps().config;
    await expect(reapOrphans({ ...deps(), config })).rejects.toThrow(
      'handler-config.json: apiTokenSecretName is required by the orphan reaper',
    );
    expect(gitlab.requests).toEqual([]);
  });

  it('defaults the grace period to 30 minutes', async () => {
    // GIVEN managers 20 and 40 minutes old, and no grace period configured
    const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
    const other = 'i-0ddddddddddddddd4';
    gitlab.addManager(alpha, systemIdForInstance(GONE), minutesAgo(20), minutesAgo(20));
    gitlab.addManager(alpha, systemIdForInstance(other), minutesAgo(40), minutesAgo(40));
    const { graceMinutes: _omitted, ...config } = deps().config;
    // WHEN the reaper runs
    const report = await reapOrphans({ ...deps(), config });
    // THEN only the older one is removed
    expect(report.removed.map((r) => r.systemId)).toEqual([systemIdForInstance(other)]);
    expect(gitlab.managerSystemIds(alpha)).toEqual([systemIdForInstance(GONE)]);
  });

  it('measures the grace period against the clock when no clock is given', async () => {
    // GIVEN one manager created just now and one three hours ago, both without an instance
    const other = 'i-0ddddddddddddddd4';
    gitlab.addManager(alpha, systemIdForInstance(GONE), new Date(), new Date());
    gitlab.addManager(alpha, systemIdForInstance(other), new Date(Date.now() - 3 * 3_600_000), null);
    const { now: _omitted, ...rest } = deps();
    // WHEN the reaper runs on the wall clock
    const report = await reapOrphans(rest);
    // THEN only the old one goes
    expect(report.removed.map((r) => r.systemId)).toEqual([systemIdForInstance(other)]);
  });

  it('logs through the given logger instead of stdout', async () => {
    const lines: string[] = [];
    gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    await reapOrphans({ ...deps(), logger: () => (_level, message) => void lines.push(message) });
    expect(lines).toContain('orphan removed');
    expect(lines).toContain('orphan reaper finished');
    expect(output).toEqual([]);
  });

  describe('Lambda entry point', () => {
    beforeEach(() => {
      // The entry point keeps its clients for the life of the container (this module); they delegate to this test's GitLab.
      const live: OrphanReaperDeps = {
        get config() {
          return deps().config;
        },
        autoScaling,
        ec2,
        get gitlab() {
          return deps().gitlab;
        },
        tokens: () => deps().tokens(),
        now: () => NOW,
      };
      vi.mocked(runtimeClients).mockImplementation(() => live);
    });

    it('returns the report when every fleet was surveyed and every deletion succeeded', async () => {
      gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

      const report = await handler();

      expect(report.removed.map((r) => r.systemId)).toEqual([systemIdForInstance(GONE)]);
      expect(report.skipped).toEqual([]);
    });

    it('ends in an error counting the fleets it could not survey, after reaping the others', async () => {
      // GIVEN alpha's instances cannot be listed while beta has an orphan
      gitlab.addManager(beta, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
      ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
        if (input.Filters?.some((f) => f.Values?.includes(fleets[0].autoScalingGroupName)))
          throw Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
        return { Reservations: [] };
      });
      // WHEN the scheduled run happens
      // THEN it fails for the alarm, and beta's orphan is gone anyway
      await expect(handler()).rejects.toThrow('orphan reaper incomplete: 1 fleet(s) not surveyed, 0 deletion(s) failed, 1 removed');
      expect(gitlab.managerSystemIds(beta)).toEqual([]);
    });

    it('ends in an error counting the deletions that failed', async () => {
      gitlab.addManager(alpha, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
      gitlab.inject({ kind: 'status', status: 500, times: 100, path: /^\/api\/v4\/runners\/managers$/ });
      await expect(handler()).rejects.toThrow('orphan reaper incomplete: 0 fleet(s) not surveyed, 1 deletion(s) failed, 0 removed');
    });

    it('does not fail for a fleet whose group is not deployed yet', async () => {
      delete instancesByGroup[fleets[1].autoScalingGroupName];

      const report = await handler();

      expect(report.skipped).toEqual([expect.objectContaining({ fleet: 'beta', failed: false })]);
    });

    it('reads its configuration beside the bundle once per container', async () => {
      await handler();
      await handler();

      expect(vi.mocked(runtimeClients)).toHaveBeenCalledTimes(1);
      expect(vi.mocked(runtimeClients).mock.calls[0][1]).toBe(10_000);
    });
  });
});
