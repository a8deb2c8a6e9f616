/**
 * `runner-fleet orphans` in-process with its real AWS side (lib/cli/orphans-aws.ts): Auto Scaling,
 * EC2 and Secrets Manager mocked with aws-sdk-client-mock, GitLab faked on 127.0.0.1. Only the
 * clock and the environment are injected, so the SDK wiring itself is what is tested.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerOrphansCommand } from '../../lib/cli/orphans';
import { awsClients } from '../../lib/cli/orphans-aws';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { runCli } from '../support/cli-run';
import { FakeGitLab, fakeRunnerToken, type FakeRunner, LOOPBACK_TIMEOUT_MS } from '../support/fake-gitlab';

const NOW = new Date('2026-11-25T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const IN_GROUP = 'i-0aaaaaaaaaaaaaaa1';
const TAGGED = 'i-0ccccccccccccccc3';
const GONE = 'i-0bbbbbbbbbbbbbbb2';
const GROUP = 'gitlab-runner-fleet-graviton-spot';
const RUNNER_SECRET = 'gitlab-runner-fleet/graviton-spot/runner-token';
const API_SECRET = 'gitlab-runner-fleet/api-token';

const work = mkdtempSync(join(tmpdir(), 'orphans-aws-'));
const configFile = join(work, 'fleet.config.yaml');
writeFileSync(
  configFile,
  `gitlab: { url: https://gitlab.example.com }
orphanReaper: { enabled: true, graceMinutes: 30 }
fleets:
  - { name: graviton-spot, computeType: spot, instanceTypes: [m7g.large], capacity: { max: 2 } }
`,
);

const autoScaling = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const secrets = mockClient(SecretsManagerClient);

describe('runner-fleet orphans with the AWS SDK (mocked)', () => {
  let gitlab: FakeGitLab;
  let runner: FakeRunner;
  let runnerToken: string;
  let apiToken: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    runnerToken = fakeRunnerToken('spot');
    apiToken = ['glpat', 'orphansawsreaderxx'].join('-');
    gitlab.allowApiToken(apiToken);
    runner = gitlab.addRunner(runnerToken, { id: 7 });
    env = {};
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          Instances: [{ InstanceId: IN_GROUP }, {}] as never,
          MinSize: 0,
          MaxSize: 2,
          DesiredCapacity: 1,
          DefaultCooldown: 300,
          AvailabilityZones: [],
          HealthCheckType: 'EC2',
          CreatedTime: hoursAgo(100),
        },
      ],
    });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: TAGGED }] }] });
    secrets.on(GetSecretValueCommand, { SecretId: RUNNER_SECRET }).resolves({ SecretString: JSON.stringify({ token: runnerToken }) });
    secrets.on(GetSecretValueCommand, { SecretId: API_SECRET }).resolves({ SecretString: `${apiToken}\n` });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await gitlab.stop();
    autoScaling.reset();
    ec2.reset();
    secrets.reset();
  });

  async function run(...args: string[]) {
    return runCli(
      (program, output) =>
        registerOrphansCommand(program, output, {
          env,
          now: () => NOW,
          gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 1, sleep: async () => {} }),
        }),
      ['orphans', '--config', configFile, ...args],
    );
  }

  it('treats group members and fleet-tagged instances as existing, and a manager of neither as an orphan', async () => {
    gitlab.addManager(runner, systemIdForInstance(IN_GROUP), hoursAgo(5), hoursAgo(1));
    gitlab.addManager(runner, systemIdForInstance(TAGGED), hoursAgo(5), hoursAgo(1));
    gitlab.addManager(runner, systemIdForInstance(GONE), hoursAgo(5), hoursAgo(4));

    const { code, stdout } = await run('--format', 'json');

    expect(code).toBe(0);
    const fleet = JSON.parse(stdout).fleets[0];
    expect(fleet).toMatchObject({ fleet: 'graviton-spot', status: 'surveyed', runnerId: 7, existingInstances: 2 });
    expect(fleet.managers.map((m: { systemId: string }) => m.systemId)).toEqual([systemIdForInstance(GONE)]);
  });

  it('asks Auto Scaling for the fleet group by name', async () => {
    await run();

    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input).toEqual({ AutoScalingGroupNames: [GROUP] });
  });

  it('lists instances in the region given by --region', async () => {
    await run('--region', 'eu-west-1');

    const client = ec2.commandCalls(DescribeInstancesCommand)[0].thisValue as EC2Client;
    expect(await client.config.region()).toBe('eu-west-1');
  });

  it('reads both tokens from Secrets Manager (JSON or plain text) when the environment has neither', async () => {
    gitlab.addManager(runner, systemIdForInstance(GONE), hoursAgo(5), hoursAgo(4));

    const { code, stdout } = await run();

    expect(code).toBe(0);
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([RUNNER_SECRET, API_SECRET]);
    expect(stdout).toContain(systemIdForInstance(GONE));
  });

  it('uses tokens from the environment without asking Secrets Manager', async () => {
    env = { GITLAB_RUNNER_TOKEN_GRAVITON_SPOT: ` ${runnerToken} `, GITLAB_API_TOKEN: apiToken };

    const { code, stdout } = await run();

    expect(code).toBe(0);
    expect(secrets.commandCalls(GetSecretValueCommand)).toEqual([]);
    expect(stdout).toContain('runner 7: 0 managers');
  });

  it('reads tokens from the process environment and judges age against the current time by default', async () => {
    vi.stubEnv('GITLAB_RUNNER_TOKEN_GRAVITON_SPOT', runnerToken);
    vi.stubEnv('GITLAB_API_TOKEN', apiToken);
    const old = new Date(Date.now() - 5 * 3_600_000);
    gitlab.addManager(runner, systemIdForInstance(GONE), old, old);
    let stdout = '';
    const output: CliOutput = { out: (t) => (stdout += t), err: () => {} };
    const program = createProgram(output);
    registerOrphansCommand(program, output, {
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 1, sleep: async () => {} }),
    });

    const code = await runProgram(program, ['node', 'runner-fleet', 'orphans', '--config', configFile], output);

    expect(code).toBe(0);
    expect(secrets.commandCalls(GetSecretValueCommand)).toEqual([]);
    expect(stdout).toContain(`${systemIdForInstance(GONE)}  ${old.toISOString().slice(0, 16).replace('T', ' ')}Z`);
  });

  it('never prints a token read from Secrets Manager, also when GitLab rejects it in an error', async () => {
    gitlab.addManager(runner, systemIdForInstance(GONE), hoursAgo(5), hoursAgo(4));
    gitlab.inject({ kind: 'status', status: 403, times: 100, path: /managers/ });

    const failing = await run();
    gitlab.clearFaults();
    const working = await run('--all', '--format', 'json');

    const everything = [failing.stdout, failing.stderr, working.stdout, working.stderr].join('\n');
    expect(failing.stdout).toContain('skipped, nothing decided: listing runner managers failed');
    expect(everything).not.toContain(runnerToken);
    expect(everything).not.toContain(apiToken);
  });

  it('skips the fleet, naming the secret, when its token secret is empty', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: RUNNER_SECRET }).resolves({ SecretString: '  ' });

    const { code, stdout, stderr } = await run();

    expect(code).toBe(3);
    expect(stdout).toContain(`skipped, nothing decided: reading the runner token failed: Error: secret ${RUNNER_SECRET} is empty`);
    expect(stderr).toContain('warning: fleet graviton-spot skipped');
  });

  it('skips the fleet, deciding nothing, when its Auto Scaling group does not exist', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    gitlab.addManager(runner, systemIdForInstance(GONE), hoursAgo(5), hoursAgo(4));

    const { stdout } = await run();

    expect(stdout).toContain(`skipped, nothing decided: Auto Scaling group ${GROUP} does not exist`);
    expect(stdout).not.toContain(systemIdForInstance(GONE));
  });
});

describe('awsClients', () => {
  it('builds every client for the region given', async () => {
    const clients = awsClients('eu-west-1');

    const regions = await Promise.all([clients.autoScaling, clients.ec2, clients.secrets].map((c) => c.config.region()));
    expect(regions).toEqual(['eu-west-1', 'eu-west-1', 'eu-west-1']);
  });

  it('leaves the region to the SDK default chain (AWS_REGION, profile) when none is given', async () => {
    const saved = process.env.AWS_REGION;
    process.env.AWS_REGION = 'ap-southeast-2';
    try {
      const clients = awsClients();
      expect(await clients.ec2.config.region()).toBe('ap-southeast-2');
    } finally {
      if (saved === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = saved;
    }
  });
});
