/**
 * `runner-fleet status` with mocked AWS clients and the fake GitLab over loopback: each mismatch
 * kind, the exit codes, and one-line errors for missing credentials and a token lacking a scope.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import { registerStatusCommand } from '../../lib/cli/status';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner } from '../support/fake-gitlab';

const NOW = new Date('2026-11-25T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const GROUP = 'gitlab-runner-fleet-mixed';
const work = mkdtempSync(join(tmpdir(), 'status-cli-'));
const configFile = join(work, 'fleet.config.yaml');
writeFileSync(
  configFile,
  `gitlab: { url: https://gitlab.example.com }
fleets:
  - name: mixed
    computeType: spot
    instanceTypes: [m7g.large]
    onDemandBase: 1
    capacity: { max: 4, desired: 2 }
    onDemandRunnerTokenSecretName: gitlab-runner-fleet/mixed/runner-token-ondemand
`,
);

interface Member {
  id: string;
  state?: string;
  spot: boolean;
  launched: Date;
}

describe('runner-fleet status', () => {
  let gitlab: FakeGitLab;
  let spot: FakeRunner;
  let onDemand: FakeRunner;
  let apiToken: string;
  let members: Member[];
  let out: string;
  let err: string;
  const aws = mockedAwsClients('eu-west-1');

  const run = async (...args: string[]) => {
    out = '';
    err = '';
    const output: CliOutput = { out: (t) => (out += t), err: (t) => (err += t) };
    const program = createProgram(output);
    registerStatusCommand(program, output, {
      env: {},
      clients: { autoScaling: aws.autoScaling, ec2: aws.ec2, secrets: aws.secrets },
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 5000, maxAttempts: 2, sleep: async () => {} }),
      now: () => NOW,
    });
    return runProgram(program, ['node', 'runner-fleet', 'status', '--config', configFile, ...args], output);
  };

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    apiToken = ['glpat', 'statusreader00000000'].join('-');
    gitlab.allowApiToken(apiToken, ['read_api']);
    spot = gitlab.addRunner(fakeRunnerToken('mixedspot'), { id: 11, tag_list: ['computetype-spot', 'arm64'] });
    onDemand = gitlab.addRunner(fakeRunnerToken('mixedondemand'), { id: 12, tag_list: ['computetype-ondemand', 'arm64'] });
    members = [
      { id: A, spot: true, launched: minutesAgo(120) },
      { id: B, spot: false, launched: minutesAgo(120) },
    ];
    gitlab.addManager(spot, systemIdForInstance(A), minutesAgo(118));
    gitlab.addManager(onDemand, systemIdForInstance(B), minutesAgo(118));
    aws.resetAwsMocks();
    const secrets: Record<string, string> = {
      'gitlab-runner-fleet/api-token': apiToken,
      'gitlab-runner-fleet/mixed/runner-token': spot.token,
      'gitlab-runner-fleet/mixed/runner-token-ondemand': onDemand.token,
    };
    aws.secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({ SecretString: secrets[input.SecretId] }));
    aws.asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          DesiredCapacity: members.length,
          Instances: members.map((m) => ({ InstanceId: m.id, LifecycleState: m.state ?? 'InService', AvailabilityZone: 'eu-west-1a' })),
        },
      ],
    }));
    aws.ec2Mock.on(DescribeInstancesCommand).callsFake(() => ({
      Reservations: [
        { Instances: members.map((m) => ({ InstanceId: m.id, LaunchTime: m.launched, InstanceLifecycle: m.spot ? 'spot' : undefined })) },
      ],
    }));
  });

  afterEach(async () => {
    for (const runner of gitlab.runners) expect(out + err).not.toContain(runner.token);
    expect(out + err).not.toContain(apiToken);
    await gitlab.stop();
  });

  it('exits 0 and shows group, instances, runners and managers when AWS and GitLab agree', async () => {
    const code = await run();

    expect(code).toBe(0);
    expect(out).toContain(`group ${GROUP} desired 2, in service 2, pending 0`);
    expect(out).toMatch(new RegExp(`${A}\\s+InService\\s+spot\\s+eu-west-1a\\s+2h00m`));
    expect(out).toContain('runner 11 (spot): tags computetype-spot,arm64; active');
    expect(out).toContain('runner 12 (on-demand): tags computetype-ondemand,arm64');
    expect(out).toContain(systemIdForInstance(B));
    expect(out).toContain('ok: no mismatches');
  });

  it('reports an instance with no manager after the launch timeout, and exits 2', async () => {
    onDemand.managers = [];

    const code = await run();

    expect(code).toBe(2);
    expect(out).toContain(`MISMATCH instance-without-manager: instance ${B} (InService) has no runner manager 15 minutes after launch`);
    expect(err).toBe('runner-fleet: 1 mismatch found\n');
  });

  it('does not count an instance still inside the launch timeout as missing its manager', async () => {
    onDemand.managers = [];
    members[1].launched = minutesAgo(5);
    members[1].state = 'Pending:Wait';

    expect(await run()).toBe(0);
    expect(out).toContain('pending 1');
  });

  it('reports a manager with no instance as an orphan', async () => {
    gitlab.addManager(spot, 's_0000deadbeef', minutesAgo(300));

    expect(await run()).toBe(2);
    expect(out).toContain('MISMATCH orphan-manager: manager s_0000deadbeef of runner 11 has no instance in the group (an orphan)');
  });

  it('reports a spot instance registered with the on-demand runner', async () => {
    gitlab.addManager(onDemand, systemIdForInstance(A), minutesAgo(100));

    expect(await run()).toBe(2);
    expect(out).toContain(`MISMATCH spot-on-ondemand-runner: spot instance ${A} is a manager of the computetype-ondemand runner 12`);
  });

  it('reports tags that contradict the compute type and architecture', async () => {
    spot.tag_list = ['computetype-ondemand', 'x86_64'];

    expect(await run()).toBe(2);
    expect(out).toContain('MISMATCH tags: runner 11 (spot, arm64) lacks computetype-spot, arm64 and carries computetype-ondemand');
  });

  it('reports run-untagged on', async () => {
    onDemand.run_untagged = true;

    expect(await run()).toBe(2);
    expect(out).toContain('MISMATCH run-untagged: runner 12 runs untagged jobs');
  });

  it('reports a runner whose token GitLab no longer knows', async () => {
    gitlab.runners.splice(gitlab.runners.indexOf(onDemand), 1);

    expect(await run()).toBe(2);
    expect(out).toContain(
      'runner (on-demand, secret gitlab-runner-fleet/mixed/runner-token-ondemand): unreadable: GitLab does not know its token',
    );
  });

  it('prints the status as JSON with the mismatches, for scripts', async () => {
    spot.tag_list = ['computetype-spot'];

    const code = await run('--format', 'json');

    expect(code).toBe(2);
    const json = JSON.parse(out) as {
      healthy: boolean;
      fleets: Array<{ group: { inService: number }; mismatches: Array<{ kind: string }> }>;
    };
    expect(json.healthy).toBe(false);
    expect(json.fleets[0].group.inService).toBe(2);
    expect(json.fleets[0].mismatches.map((m) => m.kind)).toEqual(['tags']);
  });

  it("looks up a named deployment's group by its prefixed name", async () => {
    const named = join(work, 'named.yaml');
    writeFileSync(
      named,
      readFileSync(configFile, 'utf8')
        .replace('fleets:', 'deployment: ci\nfleets:')
        .replace('capacity:', 'runnerTokenSecretName: gitlab-runner-fleet/mixed/runner-token\n    capacity:'),
    );
    aws.asgMock.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
      AutoScalingGroups: input.AutoScalingGroupNames.includes('gitlab-runner-fleet.ci.mixed')
        ? [{ AutoScalingGroupName: 'gitlab-runner-fleet.ci.mixed', DesiredCapacity: 0, Instances: [] }]
        : [],
    }));

    await run('--config', named);

    expect(out).toContain('group gitlab-runner-fleet.ci.mixed desired 0');
  });

  it('fails with one line and exit 1 naming both versions when GitLab is too old to list runner managers', async () => {
    gitlab.version = '16.11.3-ee';

    const code = await run();

    expect(code).toBe(1);
    expect(err).toBe(
      `runner-fleet: GitLab at ${gitlab.url} is version 16.11.3-ee, too old: listing runner managers (GET /api/v4/runners/:id/managers) ` +
        'needs GitLab 17.1 or later. Upgrade GitLab, or point gitlab.url at one that is new enough.\n',
    );
    expect(gitlab.requests.filter((r) => r.path.endsWith('/managers'))).toEqual([]);
  });

  it('checks the version once per run, however many runners it reads', async () => {
    await run();

    expect(gitlab.requests.filter((r) => r.path === '/api/v4/version')).toHaveLength(1);
  });

  it('goes on with a warning when GitLab answers 404 for its version', async () => {
    gitlab.inject({ kind: 'status', status: 404, times: 1, path: /\/api\/v4\/version$/ });

    const code = await run();

    expect(code).toBe(0);
    expect(err).toBe(
      'runner-fleet: warning: could not check the GitLab version: GitLab has no GET /api/v4/version (HTTP 404); going on without the check\n',
    );
  });

  it('fails with one line and exit 1 when there are no AWS credentials', async () => {
    aws.asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    const code = await run();

    expect(code).toBe(1);
    expect(err).toMatch(/^runner-fleet: no AWS credentials to describe group gitlab-runner-fleet-mixed: set AWS_PROFILE .*\n$/);
  });

  it('fails with one line and exit 1 naming the scope when the GitLab token may not read runners', async () => {
    gitlab.allowApiToken(apiToken, ['create_runner']);

    const code = await run();

    expect(code).toBe(1);
    // The error is one line; the version check it could not do is a warning line of its own.
    expect(
      err
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('runner-fleet: warning:')),
    ).toHaveLength(1);
    expect(err).toContain('runner-fleet: warning: could not check the GitLab version: the token may not read it (HTTP 403');
    expect(err).toContain('the GitLab token from secret gitlab-runner-fleet/api-token lacks access: it needs read access');
    expect(err).toContain('insufficient_scope: the access token needs the scope read_api or api or manage_runner');
  });
});
