import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstanceScriptParams } from '../../../lib/fleet/instance/params';
import { MAX_USER_DATA_BYTES, renderInstaller, renderUserData, shellQuote } from '../../../lib/fleet/instance/user-data';
import { LIFECYCLE_HOOKS, systemIdForInstance } from '../../../lib/identity/runner-identity';
import { INSTANCE_DIR, Sandbox } from './sandbox';

const HAS_SHELLCHECK = spawnSync('shellcheck', ['--version']).status === 0;

function params(overrides: Partial<InstanceScriptParams> = {}): InstanceScriptParams {
  return {
    fleetName: 'graviton-spot',
    gitlabUrl: 'https://gitlab.example.com',
    runnerVersion: '18.5.0',
    runnerDownloadUrl: 'https://gitlab-runner-downloads.s3.amazonaws.com',
    architecture: 'arm64',
    computeType: 'spot',
    executor: 'docker',
    dockerImage: 'alpine:3.20',
    concurrency: 4,
    maxJobTimeoutMinutes: 60,
    runnerTokenSecretId: 'gitlab-runner-fleet/graviton-spot/runner-token',
    autoScalingGroupName: 'gitlab-runner-fleet-graviton-spot',
    launchHookName: LIFECYCLE_HOOKS.launch,
    terminateHookName: LIFECYCLE_HOOKS.terminate,
    heartbeatIntervalSeconds: 100,
    ...overrides,
  };
}

/** What bash makes of a word: runs `printf %s <word>`. */
function bashValue(word: string): string {
  return execFileSync('bash', ['-c', `printf '%s' ${word}`], { encoding: 'utf8' });
}

/** A CA bundle of about `bytes` bytes, shaped like PEM. */
function pem(bytes: number): string {
  const body = 'A'.repeat(bytes).replace(/.{64}/g, (l) => `${l}\n`);
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`;
}

const HOSTILE = [
  "it's",
  "'; touch pwned; '",
  '$(touch pwned)',
  '`touch pwned`',
  '${HOME} $HOME \\ "double" * ? [a] ~ !x',
  'line one\nline two\n',
  "'''",
  '',
];

describe('shellQuote', () => {
  it.each(HOSTILE)('keeps %j literal through bash', (value) => {
    expect(bashValue(shellQuote(value))).toBe(value);
  });

  it('rejects NUL, which bash strings cannot hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('renderUserData parameters', () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = new Sandbox();
  });
  afterEach(() => sandbox.dispose());

  it('round-trips hostile values into the parameter file the scripts source, without executing any of them', async () => {
    const hostile = HOSTILE.join('|');
    const file = join(sandbox.dir, 'user-data.sh');
    writeFileSync(
      file,
      renderUserData(params({ dockerImage: hostile, registryMirror: hostile, caCertificate: hostile, runnerTokenSecretId: hostile })),
    );

    // The bootstrap fails fast (no IMDS); the parameter file is written before it runs.
    await sandbox.run(file, { GRF_IMDS_ENDPOINT: 'http://127.0.0.1:9', GRF_RETRY_BASE_MS: '1', GRF_RETRY_MAX_MS: '1' });

    const env = join(sandbox.root, 'etc/gitlab-runner-fleet/fleet.env');
    const read = (name: string) => execFileSync('bash', ['-c', `. "$1"; printf '%s' "\${${name}}"`, 'bash', env], { encoding: 'utf8' });
    expect(read('GRF_DOCKER_IMAGE')).toBe(hostile);
    expect(read('GRF_REGISTRY_MIRROR')).toBe(hostile);
    expect(read('GRF_CA_CERTIFICATE')).toBe(hostile);
    expect(read('GRF_TOKEN_SECRET_ID')).toBe(hostile);
    expect(read('GRF_CONCURRENCY')).toBe('4');
    expect(existsSync(join(sandbox.dir, 'pwned'))).toBe(false);
    expect(existsSync(join(sandbox.root, 'pwned'))).toBe(false);
  });

  it('keeps a deploy-time token for the secret id intact inside single quotes', () => {
    const userData = renderUserData(params({ runnerTokenSecretId: '${Token[TOKEN.123]}' }));

    expect(userData).toContain("GRF_TOKEN_SECRET_ID='${Token[TOKEN.123]}'");
  });

  it('carries the secret id and never a runner token', () => {
    const userData = renderUserData(params());

    expect(userData).toContain("GRF_TOKEN_SECRET_ID='gitlab-runner-fleet/graviton-spot/runner-token'");
    expect(userData).not.toMatch(/glrt-/);
    expect(renderInstaller()).not.toMatch(/glrt-[A-Za-z0-9_-]{10,}/);
  });

  it('names each invalid parameter and the allowed values', () => {
    expect(() => renderUserData(params({ concurrency: 0, runnerVersion: 'latest', executor: 'kubernetes' as never }))).toThrow(
      /concurrency \(0\) must be a whole number >= 1[\s\S]*runnerVersion \(latest\) must be a pinned version[\s\S]*executor \(kubernetes\) must be one of docker, shell/,
    );
  });
});

describe('renderUserData busy reporter', () => {
  const installerOf = (userData: string) => {
    const payload = /<<'GRF_EOF_INSTALLER'[^\n]*\n([\s\S]*?)\nGRF_EOF_INSTALLER/.exec(userData)?.[1] ?? '';
    return gunzipSync(Buffer.from(payload, 'base64')).toString('utf8');
  };

  it('given a fleet without demand scaling, when rendered, then the busy reporter and its unit are left out', () => {
    const installer = installerOf(renderUserData(params()));
    expect(installer).not.toContain('busy-reporter.sh');
    expect(installer).not.toContain('gitlab-runner-fleet-busy.service');
  });

  it('given a demand-scaled fleet, when rendered, then the busy reporter is installed and its unit enabled', () => {
    const installer = installerOf(renderUserData(params({ busyReporter: true })));
    expect(installer).toContain('busy-reporter.sh');
    expect(installer).toMatch(/multi-user\.target\.wants\/gitlab-runner-fleet-busy\.service/);
  });

  it('given a demand-scaled fleet, when rendered, then it still fits EC2 with room for a small CA bundle', () => {
    const bytes = Buffer.byteLength(renderUserData(params({ busyReporter: true, caCertificate: pem(2048) })));
    expect(bytes).toBeLessThanOrEqual(MAX_USER_DATA_BYTES);
  });
});

describe('renderUserData size (EC2 limit: 16 KB)', () => {
  it('stays well under the limit with a typical configuration', () => {
    const bytes = Buffer.byteLength(renderUserData(params()));

    expect(bytes).toBeLessThan(MAX_USER_DATA_BYTES - 4096);
  });

  it('leaves room for a 4 KB private CA bundle and a registry mirror', () => {
    const userData = renderUserData(params({ caCertificate: pem(4096), registryMirror: 'https://mirror.example.com' }));

    expect(Buffer.byteLength(userData)).toBeLessThanOrEqual(MAX_USER_DATA_BYTES);
  });

  it('refuses a CA bundle that pushes it over the limit, naming caCertificate', () => {
    expect(() => renderUserData(params({ caCertificate: pem(12_000) }))).toThrow(
      /over EC2's 16384-byte limit \(caCertificate is \d+ bytes/,
    );
  });
});

describe('renderUserData content', () => {
  it('is deterministic, so an unchanged fleet does not roll its instances', () => {
    expect(renderUserData(params())).toBe(renderUserData(params()));
  });

  it('carries the installer, which writes the scripts and the drain agent unit through quoted heredocs', () => {
    const userData = renderUserData(params());
    const payload = /<<'GRF_EOF_INSTALLER'[^\n]*\n([\s\S]*?)\nGRF_EOF_INSTALLER\n/.exec(userData)![1];

    const installer = gunzipSync(Buffer.from(payload.replace(/\n/g, ''), 'base64')).toString('utf8');

    expect(installer).toBe(renderInstaller());
    for (const delimiter of ['GRF_EOF_COMMON', 'GRF_EOF_BOOTSTRAP', 'GRF_EOF_DRAIN_AGENT', 'GRF_EOF_UNIT']) {
      expect(installer).toContain(`<<'${delimiter}'`);
    }
    expect(installer).toContain('ExecStart=/usr/local/lib/gitlab-runner-fleet/drain-agent.sh');
  });

  it('renders 100 fleets quickly (script files are read once)', () => {
    const started = performance.now();
    for (let i = 0; i < 100; i++) renderUserData(params({ fleetName: `fleet-${i}` }));

    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('shellcheck (skipped when shellcheck is not installed: apt-get install -y shellcheck; CI installs it)', () => {
  if (!HAS_SHELLCHECK) console.warn('shellcheck is not installed: skipping the shellcheck tests of the instance scripts');
  const shellcheck = (file: string, ...extra: string[]) =>
    spawnSync('shellcheck', ['--severity=style', ...extra, file], { encoding: 'utf8', cwd: INSTANCE_DIR });

  it.skipIf(!HAS_SHELLCHECK)('passes on the script files', () => {
    for (const name of ['common.sh', 'bootstrap.sh', 'drain-agent.sh']) {
      const result = shellcheck(name, '-x');
      expect(result.stdout, name).toBe('');
      expect(result.status, name).toBe(0);
    }
  });

  it.skipIf(!HAS_SHELLCHECK)('passes on the rendered user data and on the installer it carries', () => {
    const sandbox = new Sandbox();
    try {
      const userData = join(sandbox.dir, 'user-data.sh');
      const installer = join(sandbox.dir, 'install.sh');
      writeFileSync(userData, renderUserData(params({ caCertificate: pem(512), registryMirror: 'https://mirror.example.com' })));
      writeFileSync(installer, renderInstaller());
      for (const file of [userData, installer]) {
        const result = shellcheck(file);
        expect(result.stdout, file).toBe('');
        expect(result.status, file).toBe(0);
      }
    } finally {
      sandbox.dispose();
    }
  });
});

describe('system_id rule of the instance scripts', () => {
  const shellSystemId = (instanceId: string) =>
    spawnSync('bash', ['-c', '. ./common.sh && system_id_for_instance "$1"', 'bash', instanceId], {
      cwd: INSTANCE_DIR,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });

  it.each(['i-0123456789abcdef0', 'i-0fedcba9876543210', 'i-00000000000000001', 'i-12345678', 'i-abcdef01'])(
    'matches systemIdForInstance() for %s',
    (instanceId) => {
      const result = shellSystemId(instanceId);
      expect(result.status).toBe(0);
      expect(result.stdout.trim()).toBe(systemIdForInstance(instanceId));
    },
  );

  it.each(['i-xyz', 'i-0123456789ABCDEF0', '0123456789abcdef0', 'i-0123456789abcdef'])(
    'rejects %s like the TypeScript rule',
    (instanceId) => {
      expect(shellSystemId(instanceId).status).not.toBe(0);
      expect(() => systemIdForInstance(instanceId)).toThrow();
    },
  );

  it('produces an id GitLab Runner accepts from .runner_system_id (^[sr]_[0-9a-zA-Z]{12}$)', () => {
    expect(shellSystemId('i-12345678').stdout.trim()).toMatch(/^[sr]_[0-9a-zA-Z]{12}$/);
  });
});
