import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run';
import { registerValidateCommand } from '../../lib/cli/validate-command';

const dir = mkdtempSync(join(tmpdir(), 'validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const OK = file(
  'ok.yaml',
  `gitlab: { url: https://gitlab.example.com }
fleets:
  - name: arm-spot
    computeType: spot
    instanceTypes: [m7g.large]
    capacity: { max: 3, desired: 2 }
    schedule: { timeZone: Europe/Berlin, maxJitterMinutes: 0, windows: [{ days: daily, start: '00:00', end: '24:00' }] }
`,
);

async function run(...args: string[]) {
  return runCli(registerValidateCommand, args);
}

describe('runner-fleet validate', () => {
  it('says a valid file is valid and summarizes each fleet, exit 0', async () => {
    const { code, stdout, stderr } = await run('validate', '--config', OK);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe(
      `${OK}: valid, 1 fleet for https://gitlab.example.com\n` +
        '  arm-spot: spot arm64 m7g.large; group 2..3, 2 instance(s) all week; tags computetype-spot,arm64\n' +
        'Everything it resolves to, defaults included: runner-fleet validate --format json\n',
    );
  });

  it('prints the resolved config with every default, and the group it deploys, with --format json', async () => {
    const { code, stdout } = await run('validate', '--config', OK, '--format', 'json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ file: OK, valid: true, warnings: [] });
    expect(json.config.orphanReaper).toEqual({
      enabled: false,
      apiTokenSecretName: 'gitlab-runner-fleet/api-token',
      intervalMinutes: 60,
      graceMinutes: 30,
    });
    expect(json.config.fleets[0]).toMatchObject({
      concurrency: 4,
      executor: 'docker',
      runnerTokenSecretName: 'gitlab-runner-fleet/arm-spot/runner-token',
      autoScalingGroup: { minSize: 2, maxSize: 3, desiredCapacity: 2, scheduledActions: [] },
    });
  });

  it("lists each scheduled action with the min size it sets, the demand envelope's floor for a demand-scaled fleet", async () => {
    const scheduled = file(
      'scheduled.yaml',
      'gitlab: { url: https://gitlab.example.com }\nfleets:\n' +
        '  - name: office\n    computeType: spot\n    instanceTypes: [m7g.large]\n    capacity: { min: 0, max: 6, desired: 3 }\n' +
        '    demandScaling: { warmInstances: 1 }\n' +
        "    schedule: { timeZone: UTC, maxJitterMinutes: 0, windows: [{ days: mon-fri, start: '08:00', end: '18:00' }] }\n",
    );
    const { code, stdout } = await run('validate', '--config', scheduled, '--format', 'json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).config.fleets[0].autoScalingGroup).toEqual({
      minSize: 0,
      maxSize: 6,
      desiredCapacity: null,
      scheduledActions: [
        { cron: '0 8 * * 1-5', desired: 3, minSize: 1 },
        { cron: '0 18 * * 1-5', desired: 0, minSize: 0 },
      ],
    });
  });

  it('warns on stderr about a fleet that can never have an instance, and still exits 0', async () => {
    const parked = file(
      'parked.yaml',
      'gitlab: { url: https://gitlab.example.com }\nfleets:\n  - { name: parked, computeType: spot, instanceTypes: [m7g.large], capacity: { max: 1, desired: 0 } }\n',
    );
    const { code, stderr } = await run('validate', '--config', parked);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^warning: fleet parked can never have an instance: capacity.desired is 0 and it has no schedule/);
  });

  it('prints its version with --version', async () => {
    const { code, stdout } = await run('--version');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
