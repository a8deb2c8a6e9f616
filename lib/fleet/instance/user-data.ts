/**
 * Renders the EC2 user data of a fleet instance from the real script files next to this module
 * (bootstrap.sh, drain-agent.sh, common.sh, drain-agent.service), so the scripts stay linted and
 * tested as files while the instance gets one self-contained bash script.
 *
 * The rendered script: a header of single-quoted parameter assignments (no secrets: the runner
 * token is read from Secrets Manager at boot), the script files installed through quoted
 * heredocs, the bootstrap registered as a cloud-init per-boot script (fresh config on every
 * boot), then the bootstrap run once for this first boot.
 *
 * The installer (the files in quoted heredocs, see renderInstaller) travels gzip+base64 encoded:
 * as plain text the scripts are larger than EC2's 16 KB user data limit, which must also leave
 * room for a private CA bundle. On the instance they are plain files under
 * /usr/local/lib/gitlab-runner-fleet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { Token } from 'aws-cdk-lib';
import type { InstanceScriptParams } from './params';

/** EC2 rejects user data over 16 KB (before base64 encoding). */
export const MAX_USER_DATA_BYTES = 16 * 1024;

/** Where the scripts are installed on the instance (the drain agent unit points here). */
export const INSTANCE_LIB_DIR = '/usr/local/lib/gitlab-runner-fleet';

interface ScriptFiles {
  readonly common: string;
  readonly bootstrap: string;
  readonly drainAgent: string;
  readonly imdsGuard: string;
  readonly drainAgentUnit: string;
  readonly busyReporter: string;
  readonly busyReporterUnit: string;
}

// Read once per process: a synth of 100 fleets renders 100 user data scripts.
let filesCache: ScriptFiles | undefined;

function scriptFiles(): ScriptFiles {
  if (!filesCache) {
    const read = (name: string) => readFileSync(join(__dirname, name), 'utf8');
    filesCache = {
      common: compact(read('common.sh')),
      bootstrap: compact(read('bootstrap.sh')),
      drainAgent: compact(read('drain-agent.sh')),
      imdsGuard: compact(read('imds-guard.sh')),
      drainAgentUnit: read('drain-agent.service'),
      busyReporter: compact(read('busy-reporter.sh')),
      busyReporterUnit: read('busy-reporter.service'),
    };
  }
  return filesCache;
}

/**
 * Drops full-line comments and blank lines (keeping the shebang and shellcheck directives):
 * the files are documented for people, the 16 KB user data is for the instance.
 */
function compact(script: string): string {
  let heredocEnd: string | undefined;
  const kept: string[] = [];
  script.split('\n').forEach((line, index) => {
    // A heredoc body is content, not code: kept byte for byte.
    if (heredocEnd !== undefined) {
      kept.push(line);
      if (line === heredocEnd) heredocEnd = undefined;
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (index === 0 && trimmed.startsWith('#!')) {
      kept.push(line);
      return;
    }
    if (trimmed.startsWith('#') && !trimmed.startsWith('# shellcheck')) return;
    heredocEnd = /<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?\s*$/.exec(trimmed)?.[1];
    // Leading indentation is for people; bash does not read it outside heredocs.
    kept.push(trimmed);
  });
  return kept.join('\n').concat('\n');
}

/**
 * Quotes a value as one bash word: single quotes, with each embedded single quote written as
 * '\'' . Nothing inside single quotes is expanded, so `$(...)`, backticks, `$VAR`, newlines and
 * glob characters stay literal.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('shell values cannot contain NUL characters');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The parameter assignments, in a fixed order; optional values are empty strings when absent. */
export function userDataParameters(params: InstanceScriptParams): ReadonlyArray<readonly [string, string]> {
  return [
    ['GRF_FLEET_NAME', params.fleetName],
    ['GRF_GITLAB_URL', params.gitlabUrl.replace(/\/+$/, '')],
    ['GRF_CA_CERTIFICATE', params.caCertificate ?? ''],
    ['GRF_REGISTRY_MIRROR', params.registryMirror ?? ''],
    ['GRF_RUNNER_VERSION', params.runnerVersion],
    ['GRF_RUNNER_DOWNLOAD_URL', params.runnerDownloadUrl.replace(/\/+$/, '')],
    ['GRF_RUNNER_SHA256', params.runnerSha256 ?? ''],
    ['GRF_ARCHITECTURE', params.architecture],
    ['GRF_COMPUTE_TYPE', params.computeType],
    ['GRF_EXECUTOR', params.executor],
    ['GRF_DOCKER_IMAGE', params.dockerImage],
    ['GRF_CONCURRENCY', String(params.concurrency)],
    ['GRF_MAX_JOB_TIMEOUT_MINUTES', String(params.maxJobTimeoutMinutes)],
    ['GRF_TOKEN_SECRET_ID', params.runnerTokenSecretId],
    ['GRF_ONDEMAND_TOKEN_SECRET_ID', params.onDemandRunnerTokenSecretId ?? ''],
    ['GRF_ASG_NAME', params.autoScalingGroupName],
    ['GRF_LAUNCH_HOOK', params.launchHookName],
    ['GRF_TERMINATE_HOOK', params.terminateHookName],
    ['GRF_HEARTBEAT_SECONDS', String(params.heartbeatIntervalSeconds)],
  ];
}

function validate(params: InstanceScriptParams): void {
  const problems: string[] = [];
  const positiveInteger = (name: keyof InstanceScriptParams, value: number) => {
    // A deploy-time value (a CloudFormation parameter or mapping) is checked by the template that supplies it.
    if (Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} (${value}) must be a whole number >= 1`);
  };
  positiveInteger('concurrency', params.concurrency);
  positiveInteger('maxJobTimeoutMinutes', params.maxJobTimeoutMinutes);
  positiveInteger('heartbeatIntervalSeconds', params.heartbeatIntervalSeconds);
  if (!/^\d+\.\d+\.\d+$/.test(params.runnerVersion)) {
    problems.push(`runnerVersion (${params.runnerVersion}) must be a pinned version such as 18.5.0`);
  }
  if (params.runnerSha256 !== undefined && !/^[0-9a-f]{64}$/.test(params.runnerSha256)) {
    problems.push(`runnerSha256 (${params.runnerSha256}) must be 64 lowercase hex digits`);
  }
  if (!['arm64', 'x86_64'].includes(params.architecture)) {
    problems.push(`architecture (${params.architecture}) must be one of arm64, x86_64`);
  }
  if (!['docker', 'shell'].includes(params.executor)) {
    problems.push(`executor (${params.executor}) must be one of docker, shell`);
  }
  if (problems.length > 0) throw new Error(`Invalid instance script parameters:\n  ${problems.join('\n  ')}`);
}

/**
 * gzip, then base64 on one line (base64 -d reads any line length; line breaks would cost bytes). The gzip header's OS byte is pinned, so the user data
 * (and with it the launch template) does not change with the platform that ran the synth.
 */
export function gzipBase64(content: string): string {
  const gz = gzipSync(Buffer.from(content, 'utf8'), { level: constants.Z_BEST_COMPRESSION });
  gz[9] = 3; // OS: Unix
  return gz.toString('base64');
}

/** A quoted heredoc that writes `content` verbatim to `path` with `mode`. */
function installFile(path: string, mode: string, delimiter: string, content: string): string {
  if (content.split('\n').includes(delimiter)) throw new Error(`${path} contains its heredoc delimiter ${delimiter}`);
  return [`cat >"$GRF_ROOT${path}" <<'${delimiter}'`, content.replace(/\n$/, ''), delimiter, `chmod ${mode} "$GRF_ROOT${path}"`].join('\n');
}

/**
 * The installer carried (compressed) in the user data: writes the scripts and the drain agent
 * unit through quoted heredocs and registers the bootstrap as a cloud-init per-boot script.
 */
export function renderInstaller(options: { readonly busyReporter?: boolean } = {}): string {
  const files = scriptFiles();
  const busyReporter = options.busyReporter
    ? [
        // The busy reporter (demand scaling) lives in its own file and unit; it waits for the bootstrap's instance.env.
        installFile(`${INSTANCE_LIB_DIR}/busy-reporter.sh`, '0755', 'GRF_EOF_BUSY_REPORTER', files.busyReporter),
        installFile('/etc/systemd/system/gitlab-runner-fleet-busy.service', '0644', 'GRF_EOF_BUSY_UNIT', files.busyReporterUnit),
        'install -d "$GRF_ROOT/etc/systemd/system/multi-user.target.wants"',
        'ln -sf /etc/systemd/system/gitlab-runner-fleet-busy.service "$GRF_ROOT/etc/systemd/system/multi-user.target.wants/gitlab-runner-fleet-busy.service"',
        'systemctl start --no-block gitlab-runner-fleet-busy.service || true',
      ]
    : [];
  return [
    '#!/bin/bash',
    '# Installs the gitlab-runner-fleet instance scripts (sourced by the user data).',
    ': "${GRF_ROOT:=}"',
    installFile(`${INSTANCE_LIB_DIR}/common.sh`, '0644', 'GRF_EOF_COMMON', files.common),
    installFile(`${INSTANCE_LIB_DIR}/bootstrap.sh`, '0755', 'GRF_EOF_BOOTSTRAP', files.bootstrap),
    installFile(`${INSTANCE_LIB_DIR}/drain-agent.sh`, '0755', 'GRF_EOF_DRAIN_AGENT', files.drainAgent),
    installFile(`${INSTANCE_LIB_DIR}/imds-guard.sh`, '0755', 'GRF_EOF_IMDS_GUARD', files.imdsGuard),
    installFile('/etc/systemd/system/gitlab-runner-fleet-drain.service', '0644', 'GRF_EOF_UNIT', files.drainAgentUnit),
    ...busyReporter,
    `ln -sf ${INSTANCE_LIB_DIR}/bootstrap.sh "$GRF_ROOT/var/lib/cloud/scripts/per-boot/gitlab-runner-fleet-bootstrap.sh"`,
    '',
  ].join('\n');
}

/** The compressed installer, with and without the busy reporter. */
const installerPayloadCache = new Map<boolean, string>();

/** The complete bash user data script for one fleet's instances. */
export function renderUserData(params: InstanceScriptParams): string {
  validate(params);
  const busyReporter = params.busyReporter === true;
  let installerPayload = installerPayloadCache.get(busyReporter);
  if (installerPayload === undefined) {
    installerPayload = gzipBase64(renderInstaller({ busyReporter }));
    installerPayloadCache.set(busyReporter, installerPayload);
  }
  const assignments = userDataParameters(params);
  const script = [
    '#!/bin/bash',
    // A deploy-time fleet name (a Service Catalog parameter) would put its token's internal number here, which changes between synths.
    `# gitlab-runner-fleet user data for fleet ${Token.isUnresolved(params.fleetName) ? '$GRF_FLEET_NAME' : params.fleetName.replace(/[^A-Za-z0-9_.-]/g, '?')}: no secrets (the runner`,
    '# token is read at boot). Scripts: lib/fleet/instance/ in the repository.',
    'set -euo pipefail',
    'umask 022',
    ': "${GRF_ROOT:=}"',
    ...assignments.map(([name, value]) => `${name}=${shellQuote(value)}`),
    `install -d -m 0755 "$GRF_ROOT/etc/gitlab-runner-fleet" "$GRF_ROOT${INSTANCE_LIB_DIR}" "$GRF_ROOT/etc/systemd/system" \\`,
    '  "$GRF_ROOT/var/lib/cloud/scripts/per-boot"',
    // declare -p writes re-sourceable, correctly quoted assignments for the per-boot runs and the agent.
    `declare -p ${assignments.map(([name]) => name).join(' ')} >"$GRF_ROOT/etc/gitlab-runner-fleet/fleet.env"`,
    `base64 -d <<'GRF_EOF_INSTALLER' | gunzip >"$GRF_ROOT${INSTANCE_LIB_DIR}/install.sh"`,
    installerPayload,
    'GRF_EOF_INSTALLER',
    '# shellcheck source=/dev/null',
    `. "$GRF_ROOT${INSTANCE_LIB_DIR}/install.sh"`,
    `exec "$GRF_ROOT${INSTANCE_LIB_DIR}/bootstrap.sh"`,
    '',
  ].join('\n');
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > MAX_USER_DATA_BYTES) {
    throw new Error(
      `The rendered user data of fleet ${params.fleetName} is ${bytes} bytes, over EC2's ${MAX_USER_DATA_BYTES}-byte limit` +
        (params.caCertificate ? ` (caCertificate is ${Buffer.byteLength(params.caCertificate)} bytes: shorten the CA bundle)` : ''),
    );
  }
  return script;
}
