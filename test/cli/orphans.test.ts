import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runnerTokenEnvName, registerOrphansCommand, type OrphansCommandOverrides } from '../../lib/cli/orphans';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { GitLabRunnerClient } from '../../lib/gitlab';
import type { FleetTarget } from '../../lib/lambda/shared/handler-config';
import { bundledCli } from '../support/cli-bundle';
import { runCli } from '../support/cli-run';
import { FakeGitLab, fakeRunnerToken, type FakeRunner, LOOPBACK_TIMEOUT_MS } from '../support/fake-gitlab';

const NOW = new Date('2026-11-25T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const LIVE = 'i-0aaaaaaaaaaaaaaa1';
const GONE = 'i-0bbbbbbbbbbbbbbb2';
const work = mkdtempSync(join(tmpdir(), 'orphans-cli-'));
const configFile = join(work, 'fleet.config.yaml');
writeFileSync(
  configFile,
  `gitlab: { url: https://gitlab.example.com }
orphanReaper: { enabled: true, graceMinutes: 30 }
fleets:
  - { name: graviton-spot, computeType: spot, instanceTypes: [m7g.large], capacity: { max: 2 } }
  - { name: graviton-ondemand, computeType: on-demand, instanceTypes: [m7g.large], capacity: { max: 2 } }
`,
);

describe('runner-fleet orphans', () => {
  let gitlab: FakeGitLab;
  let spot: FakeRunner;
  let ondemand: FakeRunner;
  let env: Record<string, string>;
  let secretReads: string[];
  let secretValues: Record<string, string>;
  let instances: Record<string, string[] | Error>;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    const apiToken = ['glpat', 'workstationreaderxx'].join('-');
    gitlab.allowApiToken(apiToken);
    env = {
      GITLAB_API_TOKEN: apiToken,
      GITLAB_RUNNER_TOKEN_GRAVITON_SPOT: fakeRunnerToken('spot'),
      GITLAB_RUNNER_TOKEN_GRAVITON_ONDEMAND: fakeRunnerToken('ondemand'),
    };
    spot = gitlab.addRunner(env.GITLAB_RUNNER_TOKEN_GRAVITON_SPOT, { id: 7 });
    ondemand = gitlab.addRunner(env.GITLAB_RUNNER_TOKEN_GRAVITON_ONDEMAND, { id: 8 });
    secretReads = [];
    secretValues = {};
    instances = { 'graviton-spot': [LIVE], 'graviton-ondemand': [] };
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  function overrides(): OrphansCommandOverrides {
    return {
      env,
      now: () => NOW,
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} }),
      existingInstanceIds: async (fleet: FleetTarget) => {
        const found = instances[fleet.name];
        if (found instanceof Error) throw found;
        return found ?? [];
      },
      readSecret: async (name: string) => {
        secretReads.push(name);
        if (secretValues[name]) return secretValues[name];
        throw new Error(`secret ${name} not available in this test`);
      },
    };
  }

  async function run(...args: string[]) {
    return runCli((program, output) => registerOrphansCommand(program, output, overrides()), ['orphans', '--config', configFile, ...args]);
  }

  it('lists a manager without an instance, past the grace period, with created, contacted, status and why', async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { code, stdout } = await run();

    expect(code).toBe(0);
    expect(stdout).toContain('graviton-spot (group gitlab-runner-fleet-graviton-spot)');
    expect(stdout).toMatch(/SYSTEM_ID\s+CREATED\s+CONTACTED\s+STATUS\s+WHY ORPHANED/);
    expect(stdout).toContain(
      `${systemIdForInstance(GONE)}  2026-11-25 09:00Z  2026-11-25 10:00Z  online  no existing instance has this system_id`,
    );
  });

  it('does not list managers of existing instances or young managers as orphans', async () => {
    gitlab.addManager(spot, systemIdForInstance(LIVE), hoursAgo(30), hoursAgo(20));
    gitlab.addManager(ondemand, systemIdForInstance(GONE), new Date(NOW.getTime() - 5 * 60_000), null);

    const { stdout } = await run();

    expect(stdout).not.toContain('s_');
    expect(stdout).toContain('1 manager, 1 existing instance, 0 orphans (grace 30 min)');
  });

  it('lists every manager with its verdict with --all', async () => {
    gitlab.addManager(spot, systemIdForInstance(LIVE), hoursAgo(30), hoursAgo(20));

    const { stdout } = await run('--all');

    expect(stdout).toMatch(new RegExp(`${systemIdForInstance(LIVE)}.*live\\s+its instance still exists`));
  });

  it('deletes nothing', async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    await run();

    expect(gitlab.managerSystemIds(spot)).toEqual([systemIdForInstance(GONE)]);
    expect(gitlab.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('says a fleet was skipped, and why, when its instances cannot be listed', async () => {
    instances['graviton-ondemand'] = new Error('ExpiredToken: the security token included in the request is expired');
    gitlab.addManager(ondemand, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { stdout, stderr } = await run();

    expect(stdout).toContain(
      'graviton-ondemand (group gitlab-runner-fleet-graviton-ondemand)\n  skipped, nothing decided: listing instances failed',
    );
    expect(stderr).toContain('warning: fleet graviton-ondemand skipped');
  });

  it('reads a token from Secrets Manager when its environment variable is unset', async () => {
    delete env.GITLAB_RUNNER_TOKEN_GRAVITON_ONDEMAND;

    await run();

    expect(secretReads).toEqual(['gitlab-runner-fleet/graviton-ondemand/runner-token']);
  });

  it('reads the API token secret once for all fleets when its environment variable is unset', async () => {
    secretValues['gitlab-runner-fleet/api-token'] = env.GITLAB_API_TOKEN;
    delete env.GITLAB_API_TOKEN;
    gitlab.addManager(spot, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    gitlab.addManager(ondemand, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { stdout } = await run('--format', 'json');

    expect(secretReads).toEqual(['gitlab-runner-fleet/api-token']);
    expect(JSON.parse(stdout).fleets.map((f: { status: string }) => f.status)).toEqual(['surveyed', 'surveyed']);
  });

  it('honours --grace over the config grace period', async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { stdout } = await run('--grace', '600');

    expect(stdout).not.toContain(systemIdForInstance(GONE));
    expect(stdout).toContain('(grace 600 min)');
  });

  it('limits the listing to one fleet with --fleet, and names the allowed fleets for an unknown one', async () => {
    const only = await run('--fleet', 'graviton-spot');
    const wrong = await run('--fleet', 'nope');

    expect(only.stdout).not.toContain('graviton-ondemand');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('runner-fleet: --fleet "nope" is not a fleet of the config; allowed: graviton-spot, graviton-ondemand\n');
  });

  it('prints JSON with --format json', async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { stdout } = await run('--format', 'json');

    expect(JSON.parse(stdout).fleets[0]).toMatchObject({
      fleet: 'graviton-spot',
      runnerId: 7,
      managers: [{ systemId: systemIdForInstance(GONE), verdict: 'orphan' }],
    });
  });

  it('never prints a token, also when GitLab rejects it', async () => {
    gitlab.addManager(spot, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));
    gitlab.inject({ kind: 'status', status: 403, times: 100, path: /verify/ });

    const failing = await run();
    gitlab.clearFaults();
    const working = await run('--all', '--format', 'json');

    const everything = [failing.stdout, failing.stderr, working.stdout, working.stderr].join('\n');
    expect(failing.stdout).toContain('HTTP 403');
    for (const token of Object.values(env)) expect(everything).not.toContain(token);
  });
});

describe('runnerTokenEnvName', () => {
  it('upper-cases the fleet name and turns dashes into underscores', () => {
    expect(runnerTokenEnvName('graviton-spot')).toBe('GITLAB_RUNNER_TOKEN_GRAVITON_SPOT');
  });
});

describe('runner-fleet orphans, bundled as npm run build:cli bundles it', () => {
  const cli = bundledCli();

  it('loads the AWS SDK on demand and skips fleets whose tokens it cannot read, without calling GitLab', async () => {
    const { spawnSync } = await import('node:child_process');
    // No credentials, no profile, no instance metadata: the SDK fails locally, before any request.
    const env = { PATH: process.env.PATH ?? '', HOME: work, AWS_REGION: 'eu-central-1', AWS_EC2_METADATA_DISABLED: 'true' };

    const result = spawnSync(process.execPath, [cli, 'orphans', '--config', configFile], { encoding: 'utf8', env, timeout: 60_000 });

    // "Could not look" is not "no orphans": exit 3, naming what to set.
    expect(result.status).toBe(3);
    expect(result.stdout).toContain(
      'graviton-spot (group gitlab-runner-fleet-graviton-spot)\n  skipped, nothing decided: reading the runner token failed: Error: no AWS credentials: set AWS_PROFILE',
    );
    expect(result.stderr).toContain('warning: fleet graviton-ondemand skipped');
  });
});
