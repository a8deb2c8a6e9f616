/**
 * `runner-fleet orphans` for a mixed fleet (spot with an on-demand floor and a second runner):
 * both runners are surveyed, so an orphan of the on-demand runner is listed too.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerOrphansCommand, runnerTokenEnvName, type OrphansCommandOverrides } from '../../lib/cli/orphans';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { runCli } from '../support/cli-run';
import { FakeGitLab, fakeRunnerToken, LOOPBACK_TIMEOUT_MS, type FakeRunner } from '../support/fake-gitlab';

const NOW = new Date('2026-11-25T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const LIVE = 'i-0aaaaaaaaaaaaaaa1';
const GONE = 'i-0bbbbbbbbbbbbbbb2';
const ON_DEMAND_SECRET = 'team/mixed/ondemand-token';
const work = mkdtempSync(join(tmpdir(), 'orphans-mixed-'));
const configFile = join(work, 'fleet.config.yaml');
writeFileSync(
  configFile,
  `gitlab: { url: https://gitlab.example.com }
orphanReaper: { enabled: true, graceMinutes: 30 }
fleets:
  - name: mixed
    computeType: spot
    onDemandBase: 1
    onDemandRunnerTokenSecretName: ${ON_DEMAND_SECRET}
    instanceTypes: [m7g.large]
    capacity: { max: 3 }
`,
);

describe('runner-fleet orphans in a mixed fleet', () => {
  let gitlab: FakeGitLab;
  let spot: FakeRunner;
  let onDemand: FakeRunner;
  let env: Record<string, string>;
  let secretReads: string[];

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    const apiToken = ['glpat', 'workstationreaderxx'].join('-');
    gitlab.allowApiToken(apiToken, ['read_api']);
    spot = gitlab.addRunner(fakeRunnerToken('mixspot'), { id: 7 });
    onDemand = gitlab.addRunner(fakeRunnerToken('mixondemand'), { id: 8 });
    env = { GITLAB_API_TOKEN: apiToken, [runnerTokenEnvName('mixed')]: spot.token, [runnerTokenEnvName('mixed', true)]: onDemand.token };
    secretReads = [];
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  function overrides(): OrphansCommandOverrides {
    return {
      env,
      now: () => NOW,
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} }),
      existingInstanceIds: async () => [LIVE],
      readSecret: async (name: string) => {
        secretReads.push(name);
        if (name === ON_DEMAND_SECRET) return onDemand.token;
        throw new Error(`secret ${name} not available in this test`);
      },
    };
  }

  async function run(...args: string[]) {
    return runCli((program, output) => registerOrphansCommand(program, output, overrides()), ['orphans', '--config', configFile, ...args]);
  }

  it('lists an orphaned manager of the on-demand runner under that runner', async () => {
    gitlab.addManager(onDemand, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { code, stdout } = await run();

    expect(code).toBe(0);
    expect(stdout).toContain('runner 7 (spot): 0 managers, 1 existing instance, 0 orphans');
    expect(stdout).toContain('runner 8 (on-demand): 1 manager, 1 existing instance, 1 orphan');
    expect(stdout).toContain(systemIdForInstance(GONE));
  });

  it('names each manager’s runner in JSON, with both runner ids', async () => {
    gitlab.addManager(spot, systemIdForInstance(LIVE), hoursAgo(3), hoursAgo(2));
    gitlab.addManager(onDemand, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { stdout } = await run('--format', 'json', '--all');

    const [fleet] = JSON.parse(stdout).fleets;
    expect(fleet).toMatchObject({ runnerId: 7, runnerIds: [7, 8] });
    expect(fleet.managers.map((m: { runnerId: number; verdict: string }) => [m.runnerId, m.verdict])).toEqual([
      [7, 'live'],
      [8, 'orphan'],
    ]);
  });

  it('reads the on-demand token from its secret when the environment has none for it', async () => {
    delete env[runnerTokenEnvName('mixed', true)];
    gitlab.addManager(onDemand, systemIdForInstance(GONE), hoursAgo(3), hoursAgo(2));

    const { stdout } = await run();

    expect(secretReads).toEqual([ON_DEMAND_SECRET]);
    expect(stdout).toContain('runner 8 (on-demand): 1 manager');
    expect(stdout).not.toContain(onDemand.token);
  });
});
