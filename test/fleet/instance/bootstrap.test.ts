/**
 * Runs the rendered user data (and through it the real bootstrap.sh) with bash against a fake
 * IMDS and a fake GitLab on 127.0.0.1, with stub aws/systemctl/dnf on PATH and a stub runner
 * binary served from a file:// download URL. Each test has its own servers and sandbox, so the
 * tests run concurrently.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { LIFECYCLE_HOOKS, autoScalingGroupName, runnerName, systemIdForInstance } from '../../../lib/identity/runner-identity';
import type { InstanceScriptParams } from '../../../lib/fleet/instance/params';
import { renderUserData } from '../../../lib/fleet/instance/user-data';
import { fakeRunnerToken } from '../../support/fake-gitlab';
import { JOB_UID, RUNNER_VERSION, STUB_RUNNER_SHA256, type RunResult } from './sandbox';
import { InstanceWorld } from './world';

const INSTANCE_ID = 'i-0fedcba9876543210';
const SYSTEM_ID = systemIdForInstance(INSTANCE_ID);
const RUNNER_NAME = runnerName('graviton-spot', INSTANCE_ID, '123456789012', 'eu-west-1');
const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUfake\n-----END CERTIFICATE-----';

/** One booting instance: fake IMDS, fake GitLab with the fleet's runner, a sandbox whose Secrets Manager holds its token. */
class World extends InstanceWorld {
  static async create(context: TestContext): Promise<World> {
    const w = new World(fakeRunnerToken('boot'), INSTANCE_ID);
    await w.start(context);
    w.sandbox.setSecret(w.token);
    return w;
  }

  params(overrides: Partial<InstanceScriptParams> = {}): InstanceScriptParams {
    return {
      fleetName: 'graviton-spot',
      gitlabUrl: this.gitlab.url,
      runnerVersion: RUNNER_VERSION,
      runnerDownloadUrl: overrides.runnerDownloadUrl ?? this.sandbox.publishRunner('arm64'),
      architecture: 'arm64',
      computeType: 'spot',
      executor: 'docker',
      dockerImage: 'public.ecr.aws/docker/library/alpine:3.20',
      concurrency: 4,
      maxJobTimeoutMinutes: 45,
      runnerTokenSecretId: 'gitlab-runner-fleet/graviton-spot/runner-token',
      autoScalingGroupName: autoScalingGroupName('graviton-spot'),
      launchHookName: LIFECYCLE_HOOKS.launch,
      terminateHookName: LIFECYCLE_HOOKS.terminate,
      heartbeatIntervalSeconds: 100,
      ...overrides,
    };
  }

  /** Runs the rendered user data as cloud-init would on first boot. */
  boot(p: InstanceScriptParams = this.params()): Promise<RunResult> {
    const file = join(this.sandbox.dir, 'user-data.sh');
    writeFileSync(file, renderUserData(p));
    return this.sandbox.run(file, { GRF_IMDS_ENDPOINT: this.imds.url });
  }

  lines(): string[] {
    return this.sandbox.calls().map((c) => c.line);
  }

  lifecycleCompletions(): string[] {
    return this.lines().filter((l) => l.startsWith('aws autoscaling complete-lifecycle-action'));
  }
}

describe.concurrent('bootstrap on a healthy boot', () => {
  it('registers this machine as a runner manager with its instance-derived system_id', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot();

    expect(result.code).toBe(0);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([SYSTEM_ID]);
    expect(w.sandbox.file('etc/gitlab-runner/.runner_system_id').trim()).toBe(SYSTEM_ID);
    const register = w.lines().find((l) => l.startsWith('gitlab-runner register'))!;
    expect(register).toContain('--non-interactive');
    expect(register).toContain(`--url ${w.gitlab.url}`);
    expect(register).toContain(`--name ${RUNNER_NAME}`);
    expect(register).toContain('--executor docker');
    expect(register).toContain('--docker-image public.ecr.aws/docker/library/alpine:3.20');
  });

  it('writes concurrent, the metrics listen address and a forced-shutdown timeout into config.toml', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    const config = w.sandbox.file('etc/gitlab-runner/config.toml');
    expect(config).toMatch(/^concurrent = 4$/m);
    expect(config).toMatch(/^listen_address = "127\.0\.0\.1:9252"$/m);
    expect(config).toMatch(/^shutdown_timeout = 60$/m);
    expect(config).toMatch(/^\[\[runners\]\]$/m);
    expect(statSync(join(w.sandbox.root, 'etc/gitlab-runner/config.toml')).mode & 0o077).toBe(0);
  });

  it('installs a runner unit that drains on a plain systemctl stop', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    const unit = w.sandbox.file('etc/systemd/system/gitlab-runner.service');
    expect(unit).toMatch(/^KillSignal=SIGQUIT$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    const timeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]);
    expect(timeout).toBeGreaterThanOrEqual(45 * 60);
  });

  it('starts the drain agent before registering, then the runner, and completes the launch hook with CONTINUE', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    const order = w.lines().filter((l) => /^(systemctl restart|gitlab-runner register|aws autoscaling)/.test(l));
    expect(order).toEqual([
      'systemctl restart gitlab-runner-fleet-drain.service',
      'systemctl restart docker.service',
      expect.stringMatching(/^gitlab-runner register/),
      'systemctl restart gitlab-runner.service',
      `aws autoscaling complete-lifecycle-action --region eu-west-1 --lifecycle-hook-name ${LIFECYCLE_HOOKS.launch} ` +
        `--auto-scaling-group-name gitlab-runner-fleet-graviton-spot --instance-id ${INSTANCE_ID} --lifecycle-action-result CONTINUE`,
    ]);
    expect(w.sandbox.runnerAlive()).toBe(true);
  });

  it('hands the drain agent its identity and a root-only token file', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    const env = w.sandbox.file('run/gitlab-runner-fleet/instance.env');
    expect(env).toContain(`GRF_SYSTEM_ID="${SYSTEM_ID}"`);
    expect(env).toContain(`GRF_RUNNER_NAME="${RUNNER_NAME}"`);
    expect(w.sandbox.file('run/gitlab-runner-fleet/runner-token')).toBe(w.token);
    expect(statSync(join(w.sandbox.runDir, 'runner-token')).mode & 0o777).toBe(0o600);
  });

  it('installs the binary for the architecture, verified against release.sha256', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot(w.params({ architecture: 'x86_64', runnerDownloadUrl: w.sandbox.publishRunner('amd64') }));

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/verified gitlab-runner-linux-amd64 against file:.*\/v18\.5\.0\/release\.sha256/);
    expect(readFileSync(w.sandbox.runnerBin, 'utf8')).toContain('gitlab-runner');
  });

  it('reads IMDS only with an IMDSv2 session token', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    const reads = w.imds.requests.filter((r) => r.method === 'GET');
    expect(reads.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        '/latest/meta-data/instance-id',
        '/latest/dynamic/instance-identity/document',
        '/latest/meta-data/instance-life-cycle',
      ]),
    );
    expect(reads.every((r) => r.withValidToken)).toBe(true);
  });
});

describe.concurrent('bootstrap never trusts persisted state (seed 001)', () => {
  it('replaces a stale config.toml and .runner_system_id left by an image or an earlier boot', async (ctx) => {
    const w = await World.create(ctx);
    mkdirSync(w.sandbox.configDir, { recursive: true });
    writeFileSync(join(w.sandbox.configDir, 'config.toml'), 'concurrent = 99\n[[runners]]\n  name = "stale"\n  token = "old"\n');
    writeFileSync(join(w.sandbox.configDir, '.runner_system_id'), 's_000000stale0\n');

    const result = await w.boot();

    expect(result.code).toBe(0);
    const config = w.sandbox.file('etc/gitlab-runner/config.toml');
    expect(config).not.toContain('stale');
    expect(config).toMatch(/^concurrent = 4$/m);
    expect(config.match(/\[\[runners\]\]/g)).toHaveLength(1);
    expect(w.sandbox.file('etc/gitlab-runner/.runner_system_id').trim()).toBe(SYSTEM_ID);
  });

  it('registers the bootstrap as a per-boot script so a reboot regenerates the config', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    const perBoot = join(w.sandbox.root, 'var/lib/cloud/scripts/per-boot/gitlab-runner-fleet-bootstrap.sh');
    expect(readlinkSync(perBoot)).toBe('/usr/local/lib/gitlab-runner-fleet/bootstrap.sh');
    expect(readFileSync(join(w.sandbox.root, 'usr/local/lib/gitlab-runner-fleet/bootstrap.sh'), 'utf8')).toContain('complete_lifecycle');
  });
});

describe.concurrent('bootstrap failures replace the instance (launch hook ABANDON)', () => {
  it('abandons on a token GitLab rejects (403 on verify), and never completes with CONTINUE', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setSecret(fakeRunnerToken('revoked'));

    const result = await w.boot();

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/bootstrap failed: gitlab-runner register failed/);
    expect(w.lines().filter((l) => l.startsWith('gitlab-runner register'))).toHaveLength(3);
    expect(w.lifecycleCompletions()).toEqual([
      expect.stringMatching(/--lifecycle-hook-name gitlab-runner-fleet-registered .*--lifecycle-action-result ABANDON$/),
    ]);
    expect(w.sandbox.runnerAlive()).toBe(false);
  });

  it('retries registration through a brief GitLab outage instead of abandoning', async (ctx) => {
    const w = await World.create(ctx);
    w.gitlab.inject({ kind: 'status', status: 502, times: 1, path: /verify/ });

    const result = await w.boot();

    expect(result.code).toBe(0);
    expect(w.lines().filter((l) => l.startsWith('gitlab-runner register'))).toHaveLength(2);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/CONTINUE$/)]);
  });

  it('abandons when Secrets Manager cannot return the w.token, before anything is registered', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setSecret(undefined);

    const result = await w.boot();

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(
      /could not read the runner token from Secrets Manager secret gitlab-runner-fleet\/graviton-spot\/runner-token/,
    );
    expect(w.lines().some((l) => l.startsWith('gitlab-runner register'))).toBe(false);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/--lifecycle-action-result ABANDON$/)]);
  });

  it('abandons, installing nothing, when no SHA-256 is pinned and the download location publishes no release.sha256', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot(w.params({ runnerDownloadUrl: w.sandbox.publishRunner('arm64', 'none') }));

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/release\.sha256 and no SHA-256 is pinned: refusing to install an unverified gitlab-runner-linux-arm64/);
    expect(existsSync(w.sandbox.runnerBin)).toBe(false);
    expect(w.lines().some((l) => l.startsWith('gitlab-runner register'))).toBe(false);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/ABANDON$/)]);
  });

  it('abandons when the downloaded binary does not match release.sha256', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot(w.params({ runnerDownloadUrl: w.sandbox.publishRunner('arm64', 'bad') }));

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/checksum of gitlab-runner-linux-arm64 \([0-9a-f]{64}\) does not match .*release\.sha256/);
    expect(existsSync(w.sandbox.runnerBin)).toBe(false);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/ABANDON$/)]);
  });

  it('abandons when the runner service does not stay up, and removes the manager it just registered', async (ctx) => {
    const w = await World.create(ctx);
    // A runner binary that registers but whose service never runs.
    writeFileSync(
      join(w.sandbox.stubs, 'systemctl'),
      '#!/bin/bash\nprintf \'%s %s\\n\' "$(date +%s%3N)" "systemctl $*" >>"$STUB_CALLS"\n[[ "$1" == is-active ]] && exit 3\nexit 0\n',
    );

    const result = await w.boot();

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/gitlab-runner.service is not running/);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([]);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/ABANDON$/)]);
  });
});

describe.concurrent('bootstrap while the instance is already being drained', () => {
  it('registers nothing when the drain agent stopped the runner during boot (spot notice while installing)', async (ctx) => {
    const w = await World.create(ctx);
    // The agent (started early by the bootstrap) reacts to a notice while dnf is still installing docker.
    writeFileSync(
      join(w.sandbox.stubs, 'dnf'),
      '#!/bin/bash\nprintf \'%s %s\\n\' "$(date +%s%3N)" "dnf $*" >>"$STUB_CALLS"\n: >"$GRF_ROOT/run/gitlab-runner-fleet/drain-stopped"\n',
    );

    const result = await w.boot();

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/started draining .* before its runner registered/);
    expect(w.lines().some((l) => l.startsWith('gitlab-runner register'))).toBe(false);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([]);
  });
});

describe.concurrent('bootstrap options', () => {
  it('configures the docker registry mirror and the private CA when given', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot(w.params({ registryMirror: 'https://mirror.example.com', caCertificate: CA, gitlabUrl: w.gitlab.url }));

    expect(result.code).toBe(0);
    expect(JSON.parse(w.sandbox.file('etc/docker/daemon.json'))).toEqual({ 'registry-mirrors': ['https://mirror.example.com'] });
    expect(w.sandbox.file('etc/gitlab-runner/certs/127.0.0.1.crt').trim()).toBe(CA);
  });

  it('writes neither daemon.json nor a CA file when not given', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();

    expect(existsSync(join(w.sandbox.root, 'etc/docker/daemon.json'))).toBe(false);
    expect(existsSync(join(w.sandbox.configDir, 'certs'))).toBe(false);
  });

  it('installs git instead of docker for the shell executor and registers without a docker image', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot(w.params({ executor: 'shell' }));

    expect(w.lines()).toContain('dnf install -y git');
    expect(w.lines()).not.toContain('dnf install -y docker');
    expect(w.lines().find((l) => l.startsWith('gitlab-runner register'))).not.toContain('--docker-image');
  });

  it('still succeeds on a reboot, when no launch lifecycle action is pending', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setNoLifecycleAction();

    const result = await w.boot();

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/no pending launch lifecycle action/);
    expect(w.lifecycleCompletions().every((l) => l.endsWith('CONTINUE'))).toBe(true);
  });
});

describe.concurrent('bootstrap hands over to the drain agent', () => {
  it('the installed agent drains with the identity and token the bootstrap left, and completes the terminate hook', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot();
    w.sandbox.setJobSeconds(0.3);
    w.imds.targetLifecycleState = 'Terminated';

    const agent = join(w.sandbox.root, 'usr/local/lib/gitlab-runner-fleet/drain-agent.sh');
    const result = await w.sandbox.run(agent, { GRF_IMDS_ENDPOINT: w.imds.url, GRF_POLL_SECONDS: '0.1', GRF_HEARTBEAT_MS: '200' });

    expect(result.code).toBe(0);
    expect(w.lines()).toContain('gitlab-runner got SIGQUIT');
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([]);
    expect(w.lifecycleCompletions().at(-1)).toBe(
      `aws autoscaling complete-lifecycle-action --region eu-west-1 --lifecycle-hook-name ${LIFECYCLE_HOOKS.terminate} ` +
        `--auto-scaling-group-name gitlab-runner-fleet-graviton-spot --instance-id ${INSTANCE_ID} --lifecycle-action-result CONTINUE`,
    );
    expect(result.stdout).toContain(`instance=${INSTANCE_ID} runner=${RUNNER_NAME}`);
  });
});

describe.concurrent('bootstrap secrecy', () => {
  it('never puts the token in argv, stdout, stderr or syslog, even when registration fails and the runner echoes it', async (ctx) => {
    const w = await World.create(ctx);
    const good = await w.boot();
    w.sandbox.setSecret(fakeRunnerToken('revoked'));
    const revoked = fakeRunnerToken('revoked');
    const bad = await w.boot();

    const everything = [good.stdout, good.stderr, bad.stdout, bad.stderr, w.lines().join('\n')].join('\n');
    expect(everything).not.toContain(w.token);
    expect(everything).not.toContain(revoked);
    expect(bad.stdout).toContain('token=[redacted]');
  });
});

describe.concurrent('bootstrap with a pinned runner SHA-256', () => {
  it('installs a binary that matches the pin without trusting the release.sha256 beside it', async (ctx) => {
    const w = await World.create(ctx);
    // The download host publishes a wrong release.sha256: only the pin counts.
    const result = await w.boot(w.params({ runnerDownloadUrl: w.sandbox.publishRunner('arm64', 'bad'), runnerSha256: STUB_RUNNER_SHA256 }));

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('verified gitlab-runner-linux-arm64 against the pinned SHA-256');
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/CONTINUE$/)]);
  });

  it('refuses a binary that differs from the pin, even when release.sha256 vouches for it (a mirror serving other bytes)', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot(w.params({ runnerSha256: 'f'.repeat(64) }));

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/checksum of gitlab-runner-linux-arm64 \([0-9a-f]{64}\) does not match the pinned SHA-256 \(f{64}\)/);
    expect(existsSync(w.sandbox.runnerBin)).toBe(false);
    expect(w.lines().some((l) => l.startsWith('gitlab-runner register'))).toBe(false);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/ABANDON$/)]);
  });
});

describe.concurrent('shell executor: jobs never hold the fleet keys', () => {
  const IMDS_RULES = [
    new RegExp(`^\\s*meta skuid ${JOB_UID} ip daddr 169\\.254\\.169\\.254 .*reject`, 'm'),
    new RegExp(`^\\s*meta skuid ${JOB_UID} ip6 daddr fd00:ec2::254 .*reject`, 'm'),
  ];

  it('blocks IMDS (IPv4 and IPv6) for the job user uid before the runner starts', async (ctx) => {
    const w = await World.create(ctx);
    const result = await w.boot(w.params({ executor: 'shell' }));

    expect(result.code).toBe(0);
    const [ruleset, ...others] = w.sandbox.nftRulesets();
    expect(others).toEqual([]);
    for (const rule of IMDS_RULES) expect(ruleset.rules).toMatch(rule);
    expect(ruleset.rules).toMatch(/type filter hook output/);
    const runnerStart = w.sandbox.calls().find((c) => c.line === 'systemctl restart gitlab-runner.service')!;
    expect(ruleset.at).toBeLessThanOrEqual(runnerStart.at);
    expect(w.lines().findIndex((l) => l.startsWith('nft -f '))).toBeLessThan(w.lines().indexOf('systemctl restart gitlab-runner.service'));
  });

  it('replaces the rule table atomically, so reloading never leaves a gap or a duplicate', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot(w.params({ executor: 'shell' }));

    const lines = w.sandbox.nftRulesets()[0].rules.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'table inet gitlab_runner_fleet_imds_guard',
      'delete table inet gitlab_runner_fleet_imds_guard',
      'table inet gitlab_runner_fleet_imds_guard {',
    ]);
  });

  it('loads the rule again on a reboot, before the runner starts again', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot(w.params({ executor: 'shell' }));
    w.sandbox.setNoLifecycleAction();

    const reboot = await w.boot(w.params({ executor: 'shell' }));

    expect(reboot.code).toBe(0);
    const rulesets = w.sandbox.nftRulesets();
    expect(rulesets).toHaveLength(2);
    const runnerStarts = w.sandbox.calls().filter((c) => c.line === 'systemctl restart gitlab-runner.service');
    expect(runnerStarts).toHaveLength(2);
    for (const rule of IMDS_RULES) expect(rulesets[1].rules).toMatch(rule);
    expect(rulesets[1].at).toBeGreaterThan(runnerStarts[0].at);
    expect(rulesets[1].at).toBeLessThanOrEqual(runnerStarts[1].at);
  });

  it('makes every start of the runner unit load the rule first (ExecStartPre), so a restart outside the bootstrap keeps it', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot(w.params({ executor: 'shell' }));

    const unit = w.sandbox.file('etc/systemd/system/gitlab-runner.service');
    const guard = join(w.sandbox.root, 'usr/local/lib/gitlab-runner-fleet/imds-guard.sh');
    expect(unit).toContain(`ExecStartPre=${guard} gitlab-runner\n`);
    expect(unit).toMatch(/^ExecStart=.* --user gitlab-runner$/m);
    // What systemd would run before ExecStart: the installed guard, loading the same rules.
    const pre = await w.sandbox.run(guard, {});
    expect(pre.code).toBe(0);
    expect(w.sandbox.nftRulesets()).toHaveLength(2);
    for (const rule of IMDS_RULES) expect(w.sandbox.nftRulesets()[1].rules).toMatch(rule);
  });

  it('abandons the instance and never starts the runner when the rule cannot be loaded', async (ctx) => {
    const w = await World.create(ctx);
    w.sandbox.setNftFails();

    const result = await w.boot(w.params({ executor: 'shell' }));

    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/could not load the nftables rules that keep gitlab-runner \(uid 990\) away from IMDS/);
    expect(result.stdout).toMatch(/bootstrap failed: could not block IMDS for the job user/);
    expect(w.lines()).not.toContain('systemctl restart gitlab-runner.service');
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([]);
    expect(w.lifecycleCompletions()).toEqual([expect.stringMatching(/ABANDON$/)]);
  });

  it('keeps the token file and config.toml unreadable for the job user: root-only files in root-only directories', async (ctx) => {
    const w = await World.create(ctx);
    await w.boot(w.params({ executor: 'shell' }));

    const mode = (path: string) => statSync(join(w.sandbox.root, path)).mode & 0o777;
    expect(w.sandbox.file('etc/gitlab-runner/config.toml')).toContain(w.token);
    expect(mode('etc/gitlab-runner/config.toml')).toBe(0o600);
    expect(mode('etc/gitlab-runner')).toBe(0o700);
    expect(mode('run/gitlab-runner-fleet/runner-token')).toBe(0o600);
    expect(mode('run/gitlab-runner-fleet')).toBe(0o700);
    // Shell jobs run as gitlab-runner, not root, so these modes are what keep them out.
    expect(w.sandbox.file('etc/systemd/system/gitlab-runner.service')).toMatch(/--user gitlab-runner\b/);
  });
});

describe.concurrent('bootstrap boot metrics (fleet dimension only)', () => {
  /** The kernel's /proc/uptime of the sandbox: seconds since boot, then idle seconds. */
  function setUptime(w: World, content: string): void {
    mkdirSync(join(w.sandbox.root, 'proc'), { recursive: true });
    writeFileSync(join(w.sandbox.root, 'proc', 'uptime'), content);
  }
  const metricCalls = (w: World) => w.sandbox.calls().filter((c) => c.line.startsWith('aws cloudwatch put-metric-data'));

  it('publishes the whole seconds since boot as BootToRegisteredSeconds once the launch hook is completed with CONTINUE', async (ctx) => {
    const w = await World.create(ctx);
    setUptime(w, '93.87 170.21\n');

    const result = await w.boot();

    expect(result.code).toBe(0);
    const metrics = metricCalls(w);
    expect(metrics.map((c) => c.line)).toEqual([
      'aws cloudwatch put-metric-data --region eu-west-1 --namespace GitLabRunnerFleet --metric-name BootToRegisteredSeconds ' +
        '--dimensions Fleet=graviton-spot --value 93 --unit Seconds',
    ]);
    const continued = w.sandbox.calls().find((c) => /complete-lifecycle-action .*CONTINUE$/.test(c.line))!;
    expect(metrics[0].at).toBeGreaterThanOrEqual(continued.at);
  });

  it('publishes no boot time on a reboot, when no launch lifecycle action was pending', async (ctx) => {
    const w = await World.create(ctx);
    setUptime(w, '41.00 80.00\n');
    w.sandbox.setNoLifecycleAction();

    const result = await w.boot();

    expect(result.code).toBe(0);
    expect(metricCalls(w)).toEqual([]);
  });

  it('counts a boot that gives up (launch hook ABANDON) as one RegistrationFailures, with no boot time', async (ctx) => {
    const w = await World.create(ctx);
    setUptime(w, '120.50 200.00\n');
    w.sandbox.setSecret(fakeRunnerToken('revoked'));

    const result = await w.boot();

    expect(result.code).not.toBe(0);
    expect(metricCalls(w).map((c) => c.line)).toEqual([
      'aws cloudwatch put-metric-data --region eu-west-1 --namespace GitLabRunnerFleet --metric-name RegistrationFailures ' +
        '--dimensions Fleet=graviton-spot --value 1 --unit Count',
    ]);
  });
});
