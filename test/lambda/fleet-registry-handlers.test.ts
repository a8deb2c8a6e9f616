/**
 * Fleets launched from the Service Catalog join the runner platform through the SSM fleet
 * registry: the safety net and the orphan reaper, configured with nothing but the registry path,
 * deregister a registered fleet's runner managers on real HTTP (fake GitLab on loopback), with
 * SSM, EC2, Auto Scaling and Secrets Manager mocked.
 */
import { CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { FLEET_REGISTRY_PATH, fleetRegistryParameterName } from '../../lib/identity/fleet-registry';
import { autoScalingGroupName, systemIdForInstance } from '../../lib/identity/runner-identity';
import { reapOrphans } from '../../lib/lambda/orphan-reaper/handler';
import { createSafetyNetHandler } from '../../lib/lambda/safety-net/handler';
import { registryFleets, registryListing } from '../../lib/lambda/shared/fleet-source';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner } from '../support/fake-gitlab';
import { sqsEvent, sqsRecord, terminateLifecycleAction } from './events';

const FLEET = 'team-web';
const GROUP = autoScalingGroupName(FLEET);
const SECRET = `gitlab-runner-fleet/catalog.fleets/${FLEET}/runner-token`;
const INSTANCE = 'i-0123456789abcdef0';
const NOW = new Date('2026-11-25T12:00:00Z');

function entry(name: string, gitlabUrl: string, overrides: Record<string, string> = {}) {
  return {
    Name: fleetRegistryParameterName(name),
    Value: JSON.stringify({
      name,
      autoScalingGroupName: autoScalingGroupName(name),
      tokenSecretName: `gitlab-runner-fleet/catalog.fleets/${name}/runner-token`,
      gitlabUrl,
      ...overrides,
    }),
  };
}

describe('registryListing', () => {
  it('serves entries registered for the platform GitLab', () => {
    const listing = registryListing(
      [{ name: entry('a', 'https://gitlab.example.com').Name, value: entry('a', 'https://gitlab.example.com').Value }],
      'https://gitlab.example.com',
    );
    expect(listing.fleets).toEqual([
      { name: 'a', autoScalingGroupName: autoScalingGroupName('a'), tokenSecretName: 'gitlab-runner-fleet/catalog.fleets/a/runner-token' },
    ]);
  });

  it('ignores, with a reason, an entry registered for another GitLab', () => {
    const e = entry('a', 'https://evil.example.net');
    const listing = registryListing([{ name: e.Name, value: e.Value }], 'https://gitlab.example.com');
    expect(listing.fleets).toEqual([]);
    expect(listing.ignored).toEqual([expect.stringContaining('registered for https://evil.example.net')]);
  });

  it('ignores an entry whose token secret is outside the fleet prefix', () => {
    const e = entry('a', 'https://gitlab.example.com', { tokenSecretName: 'prod/database-password' });
    expect(registryListing([{ name: e.Name, value: e.Value }], 'https://gitlab.example.com').ignored).toEqual([
      expect.stringContaining('tokenSecretName must start with gitlab-runner-fleet/catalog.fleets/'),
    ]);
  });

  it('ignores an entry naming a group that is not the fleet group', () => {
    const e = entry('a', 'https://gitlab.example.com', { autoScalingGroupName: 'someone-elses-group' });
    expect(registryListing([{ name: e.Name, value: e.Value }], 'https://gitlab.example.com').ignored).toEqual([
      expect.stringContaining('autoScalingGroupName must be gitlab-runner-fleet-a'),
    ]);
  });

  it('ignores a value that is not JSON', () => {
    expect(registryListing([{ name: fleetRegistryParameterName('a'), value: 'nope' }], 'https://gitlab.example.com').ignored).toEqual([
      `${fleetRegistryParameterName('a')}: value is not JSON`,
    ]);
  });
});

describe('fleet Lambdas with the SSM fleet registry', () => {
  let gitlab: FakeGitLab;
  let runner: FakeRunner;
  let token: string;
  let output: string[];
  const { ec2, autoScaling, secrets, ec2Mock, asgMock, secretsMock, resetAwsMocks } = mockedAwsClients();
  const ssm = new SSMClient({ region: 'eu-central-1' });
  const ssmMock = mockClient(ssm);

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    token = fakeRunnerToken('registry');
    runner = gitlab.addRunner(token);
    resetAwsMocks();
    ssmMock.reset();
    // Two pages: the registered fleet, then one registered for another GitLab.
    ssmMock.on(GetParametersByPathCommand).callsFake((input: { Path: string; NextToken?: string }) => {
      if (input.Path !== FLEET_REGISTRY_PATH) return { Parameters: [] };
      return input.NextToken === 'page-2'
        ? { Parameters: [entry('elsewhere', 'https://other-gitlab.example.net')] }
        : { Parameters: [entry(FLEET, gitlab.url)], NextToken: 'page-2' };
    });
    secretsMock.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: token });
    asgMock.on(CompleteLifecycleActionCommand).resolves({});
    output = [];
    const capture = (...args: unknown[]) => void output.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gitlab.stop();
  });

  const platformConfig = () => ({ gitlabUrl: gitlab.url, fleets: [], registryPath: FLEET_REGISTRY_PATH });
  const client = () => new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 300, maxAttempts: 2, sleep: async () => {} });

  it('safety net: deregisters the manager of a registered fleet instance and completes its lifecycle action', async () => {
    // GIVEN a platform whose config lists no fleet, only the registry, and a registered fleet's manager
    gitlab.addManager(runner, systemIdForInstance(INSTANCE));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const config = platformConfig();
    const handler = createSafetyNetHandler(() => ({
      config,
      autoScaling,
      ec2,
      gitlab: client(),
      tokens: () => new SecretsManagerTokens(secrets),
      fleetSource: registryFleets(ssm, FLEET_REGISTRY_PATH, config),
    }));

    // WHEN the fleet's instance terminates without its drain agent
    const result = await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE, { group: GROUP }))));

    // THEN the manager is gone and the group is released
    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(output.join('\n')).toContain('registered for https://other-gitlab.example.net');
    expect(output.join('\n')).not.toContain(token);
  });

  it('safety net: leaves events of a group no registry entry names', async () => {
    const config = platformConfig();
    const handler = createSafetyNetHandler(() => ({
      config,
      autoScaling,
      ec2,
      gitlab: client(),
      tokens: () => new SecretsManagerTokens(secrets),
      fleetSource: registryFleets(ssm, FLEET_REGISTRY_PATH, config),
    }));
    gitlab.addManager(runner, systemIdForInstance(INSTANCE));

    await handler(sqsEvent(sqsRecord(terminateLifecycleAction(INSTANCE, { group: autoScalingGroupName('not-registered') }))));

    expect(gitlab.managerSystemIds(runner)).toEqual([systemIdForInstance(INSTANCE)]);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('orphan reaper: removes a registered fleet manager whose instance no longer exists', async () => {
    // GIVEN a registered fleet with an old manager and no instances
    const apiToken = ['glpat', 'registryreaderxxxxxx'].join('-');
    gitlab.allowApiToken(apiToken);
    secretsMock.on(GetSecretValueCommand, { SecretId: 'gitlab-runner-fleet/api-token' }).resolves({ SecretString: apiToken });
    gitlab.addManager(
      runner,
      systemIdForInstance(INSTANCE),
      new Date(NOW.getTime() - 3 * 3_600_000),
      new Date(NOW.getTime() - 2 * 3_600_000),
    );
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: GROUP, Instances: [] } as never] });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const config = { ...platformConfig(), apiTokenSecretName: 'gitlab-runner-fleet/api-token', graceMinutes: 30 };

    // WHEN the reaper runs with the registry as its fleet source
    const report = await reapOrphans({
      config,
      autoScaling,
      ec2,
      gitlab: client(),
      tokens: () => new SecretsManagerTokens(secrets),
      now: () => NOW,
      fleetSource: registryFleets(ssm, FLEET_REGISTRY_PATH, config),
    });

    // THEN the orphan is removed, and only the platform GitLab's fleet was surveyed
    expect(report.removed).toEqual([expect.objectContaining({ fleet: FLEET, systemId: systemIdForInstance(INSTANCE), result: 'deleted' })]);
    expect(gitlab.managerSystemIds(runner)).toEqual([]);
    expect(Object.keys(report.kept)).toEqual([FLEET]);
  });
});
