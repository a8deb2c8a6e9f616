/**
 * `runner-fleet rotate-token` against the fake GitLab and mocked AWS clients driving a simulated
 * fleet: instances with running jobs, an instance refresh that drains one instance at a time
 * through the terminate hook, and managers deregistered after their instances end. Simulated
 * time passes only through the command's injected sleep.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import { registerRotateTokenCommand } from '../../lib/cli/rotate-token';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner } from '../support/fake-gitlab';
import { SimulatedFleet } from '../support/simulated-fleet';

const SECRET = 'gitlab-runner-fleet/spotty/runner-token';
const ACCESS_SECRET = 'gitlab-runner-fleet/access-token';
const work = mkdtempSync(join(tmpdir(), 'rotate-cli-'));
const configFile = join(work, 'fleet.config.yaml');
writeFileSync(
  configFile,
  `gitlab: { url: https://gitlab.example.com }
fleets:
  - name: spotty
    computeType: spot
    instanceTypes: [m7g.large]
    capacity: { max: 4, desired: 3 }
    minHealthyPercentage: 66
    gitlabRunner: { scope: group, group: 321, accessTokenSecretName: ${ACCESS_SECRET} }
  - name: handmade
    computeType: on-demand
    instanceTypes: [m7g.large]
    capacity: { max: 2 }
`,
);

describe('runner-fleet rotate-token', () => {
  let gitlab: FakeGitLab;
  let oldRunner: FakeRunner;
  let accessToken: string;
  let secrets: Map<string, string>;
  let fleet: SimulatedFleet;
  let out: string;
  let err: string;
  const aws = mockedAwsClients('eu-west-1');

  const run = async (...args: string[]) => {
    out = '';
    err = '';
    const output: CliOutput = { out: (t) => (out += t), err: (t) => (err += t) };
    const program = createProgram(output);
    registerRotateTokenCommand(program, output, {
      env: {},
      clients: { autoScaling: aws.autoScaling, ec2: aws.ec2, secrets: aws.secrets },
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 5000, maxAttempts: 2, sleep: async () => {} }),
      sleep: async () => fleet.tick(),
    });
    return runProgram(program, ['node', 'runner-fleet', 'rotate-token', ...args, '--config', configFile, '--poll-seconds', '10'], output);
  };

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    accessToken = ['glpat', 'rotator0000000000000'].join('-');
    gitlab.allowApiToken(accessToken, ['create_runner', 'manage_runner']);
    oldRunner = gitlab.addRunner(fakeRunnerToken('oldspotty'), {
      id: 41,
      description: 'gitlab-runner-fleet spotty (spot) in 123456789012/eu-west-1',
      tag_list: ['computetype-spot', 'arm64', 'docker'],
    });
    secrets = new Map([
      [ACCESS_SECRET, accessToken],
      [SECRET, oldRunner.token],
    ]);
    fleet = new SimulatedFleet(gitlab, secrets, { spot: SECRET });
    for (let i = 0; i < 3; i++) fleet.boot('spot', 2 + i);
    aws.resetAwsMocks();
    aws.secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({ SecretString: secrets.get(input.SecretId) }));
    aws.secretsMock.on(PutSecretValueCommand).callsFake((input: { SecretId: string; SecretString: string }) => {
      secrets.set(input.SecretId, input.SecretString);
      return {};
    });
    aws.asgMock.on(StartInstanceRefreshCommand).callsFake(() => {
      fleet.refreshing = true;
      return { InstanceRefreshId: 'refresh-1' };
    });
    aws.asgMock
      .on(DescribeInstanceRefreshesCommand)
      .callsFake(() => ({ InstanceRefreshes: [{ InstanceRefreshId: 'refresh-1', Status: fleet.refreshStatus() }] }));
  });

  afterEach(async () => {
    for (const runner of gitlab.runners) expect(out + err).not.toContain(runner.token);
    expect(out + err).not.toContain(accessToken);
    await gitlab.stop();
  });

  it('ends with the new token on every instance, no job interrupted and the old runner deleted', async () => {
    const code = await run('spotty');

    expect(code).toBe(0);
    const newToken = secrets.get(SECRET)!;
    expect(newToken).not.toBe(oldRunner.token);
    expect(fleet.instances).toHaveLength(3);
    expect(fleet.instances.every((i) => i.token === newToken)).toBe(true);
    expect(fleet.interruptedJobs).toBe(0);
    expect(gitlab.runner(41)).toBeUndefined();
    const [newRunner] = gitlab.runners;
    expect(newRunner).toMatchObject({
      token: newToken,
      runner_type: 'group_type',
      group_id: 321,
      tag_list: ['computetype-spot', 'arm64', 'docker'],
      description: 'gitlab-runner-fleet spotty (spot) in 123456789012/eu-west-1',
      run_untagged: false,
    });
    expect(newRunner.managers).toHaveLength(3);
    expect(aws.asgMock.commandCalls(StartInstanceRefreshCommand)[0].args[0].input).toMatchObject({
      AutoScalingGroupName: 'gitlab-runner-fleet-spotty',
      Preferences: { MinHealthyPercentage: 66, SkipMatching: false },
    });
    expect(out).toContain('old runner 41 (spot) had no managers left and is deleted');
  });

  it('waits for the last manager of the old runner to deregister before deleting it', async () => {
    await run('spotty');

    const managerLists = gitlab.requests.filter((r) => r.path === '/api/v4/runners/41/managers');
    const deletion = gitlab.requests.findIndex((r) => r.method === 'DELETE' && r.path === '/api/v4/runners/41');
    // The refresh reports success while the last drained instance still deregisters: one list still shows it.
    expect(managerLists.length).toBeGreaterThan(1);
    expect(deletion).toBeGreaterThan(gitlab.requests.indexOf(managerLists.at(-1)!));
    expect(fleet.interruptedJobs).toBe(0);
  });

  it('keeps the old runner and exits 3 when the instance refresh fails', async () => {
    fleet.refreshFails = true;

    const code = await run('spotty');

    expect(code).toBe(3);
    expect(gitlab.runner(41)).toBeDefined();
    expect(out).toContain('instance refresh refresh-1 is Failed; old runners 41 are kept');
  });

  it('refuses a fleet that does not own its runner, with one line and exit 1', async () => {
    const code = await run('handmade');

    expect(code).toBe(1);
    expect(err).toMatch(/^runner-fleet: fleet handmade does not own its GitLab runner .*\n$/);
    expect(aws.asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  it('names the missing scope when the access token cannot create runners, before touching the secret', async () => {
    gitlab.allowApiToken(accessToken, ['read_api']);

    const code = await run('spotty');

    expect(code).toBe(1);
    expect(err).toContain(
      `the GitLab token from secret ${ACCESS_SECRET} lacks access: it needs the create_runner and manage_runner scopes`,
    );
    expect(secrets.get(SECRET)).toBe(oldRunner.token);
  });

  it('refuses a GitLab too old for the runner endpoints in one line, before creating a runner or touching the secret', async () => {
    gitlab.allowApiToken(accessToken, ['create_runner', 'manage_runner', 'read_api']);
    gitlab.version = '16.9.0';

    const code = await run('spotty');

    expect(code).toBe(1);
    expect(err).toMatch(
      /^runner-fleet: GitLab at \S+ is version 16\.9\.0, too old: creating and managing runners .* needs GitLab 17\.1 or later; listing runner managers .* needs GitLab 17\.1 or later\. .*\n$/,
    );
    expect(gitlab.runners.map((r) => r.id)).toEqual([41]);
    expect(secrets.get(SECRET)).toBe(oldRunner.token);
    expect(aws.asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  it('rotates with a warning when the access token may not read the GitLab version', async () => {
    const code = await run('spotty');

    expect(code).toBe(0);
    expect(out).toContain('warning: could not check the GitLab version: the token may not read it (HTTP 403');
  });
});
