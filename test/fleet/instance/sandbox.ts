/**
 * A throwaway root for running the instance scripts unprivileged: GRF_ROOT relocates every file
 * they write, and stub commands on PATH (aws, systemctl, dnf, useradd, id, logger) append
 * their argv, with a millisecond timestamp, to calls.log. The GitLab Runner "binary" the bootstrap
 * downloads is a stub too: `register` verifies the token against the fake GitLab like the real one
 * (POST /api/v4/runners/verify with the system_id from .runner_system_id); `run` idles until
 * SIGQUIT, then finishes its "job" after job-seconds and exits; SIGTERM aborts the job and exits at once.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTANCE_DIR = join(__dirname, '..', '..', '..', 'lib', 'fleet', 'instance');
export const RUNNER_VERSION = '18.5.0';
/** The uid the stub `id -u gitlab-runner` reports once the bootstrap created the job user. */
export const JOB_UID = 990;

const STUBS: Record<string, string> = {
  aws: `
case "$1 $2" in
  "secretsmanager get-secret-value")
    secret_id=""; prev=""
    for arg in "$@"; do [[ "$prev" == --secret-id ]] && secret_id=$arg; prev=$arg; done
    named="$STUB_DIR/secrets/\${secret_id//\\//_}"
    if [[ -f "$named" ]]; then cat "$named"; echo; exit 0; fi
    if [[ -f "$STUB_DIR/secret" ]]; then cat "$STUB_DIR/secret"; echo; exit 0; fi
    echo "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation" >&2
    exit 254 ;;
  "autoscaling complete-lifecycle-action")
    if [[ -f "$STUB_DIR/no-lifecycle-action" ]]; then echo "ValidationError: No active Lifecycle Action found" >&2; exit 254; fi ;;
esac
exit 0`,
  systemctl: `
pid=$(cat "$STUB_DIR/runner.pid" 2>/dev/null || echo 0)
case "$1" in
  show) echo "$pid" ;;
  stop) if [[ "$*" == *gitlab-runner.service* ]] && ((pid > 0)); then kill -QUIT "$pid" 2>/dev/null || true; fi ;;
  restart|start)
    if [[ "$*" == *" gitlab-runner.service"* ]]; then
      # Job control on: without it bash starts background jobs with SIGQUIT ignored, and systemd does not.
      set -m
      "$STUB_RUNNER_BIN" run </dev/null >/dev/null 2>&1 &
      echo $! >"$STUB_DIR/runner.pid"
    fi ;;
  kill)
    sig=TERM
    for arg in "$@"; do case "$arg" in --signal=*) sig="\${arg#--signal=}"; sig="\${sig#SIG}" ;; esac; done
    if [[ "$*" == *gitlab-runner.service* ]] && ((pid > 0)); then kill -"$sig" "$pid" 2>/dev/null || true; fi ;;
  is-active) ((pid > 0)) && kill -0 "$pid" 2>/dev/null || exit 3 ;;
esac
exit 0`,
  dnf: 'exit 0',
  useradd: ': >"$STUB_DIR/user-${*: -1}"',
  // A user exists once useradd made it; `id -u` prints JOB_UID for it.
  id: `
if [[ -f "$STUB_DIR/user-\${*: -1}" ]]; then [[ "$1" == -u ]] && echo ${JOB_UID}; exit 0; fi
exit 1`,
  // Records each ruleset loaded with `nft -f FILE` in nft-rulesets.log, one per "--- ruleset" block.
  nft: `
if [[ -f "$STUB_DIR/nft-fails" ]]; then echo "Error: Could not process rule: Operation not permitted" >&2; exit 1; fi
if [[ "$1" == -f ]]; then { echo "--- ruleset $(date +%s%3N)"; cat "$2"; } >>"$STUB_DIR/nft-rulesets.log"; fi
exit 0`,
  logger: 'exit 0',
};

/** The stub GitLab Runner binary served as the download. */
export const STUB_RUNNER = `#!/bin/bash
printf '%s %s\\n' "$(date +%s%3N)" "gitlab-runner $*" >>"$STUB_CALLS"
case "$1" in
  register)
    shift
    while (($#)); do
      case "$1" in
        --config) config=$2; shift ;;
        --url) url=$2; shift ;;
        --name) name=$2; shift ;;
        --executor) executor=$2; shift ;;
      esac
      shift
    done
    system_id=$(cat "$(dirname "$config")/.runner_system_id")
    code=$(printf '%s' "$CI_SERVER_TOKEN" | curl -sS -o /dev/null -w '%{http_code}' -X POST -F 'token=<-' -F "system_id=$system_id" "$url/api/v4/runners/verify")
    if [[ "$code" != 200 ]]; then
      # Deliberately echoes the whole token: the bootstrap must redact its output.
      echo "ERROR: Verifying runner... is not valid (HTTP $code) token=$CI_SERVER_TOKEN"
      exit 1
    fi
    printf '\\n[[runners]]\\n  name = "%s"\\n  url = "%s"\\n  token = "%s"\\n  executor = "%s"\\n' "$name" "$url" "$CI_SERVER_TOKEN" "$executor" >>"$config"
    echo "Runner registered successfully."
    ;;
  run)
    # As GitLab Runner documents its signals: SIGQUIT is the graceful shutdown (the running "job"
    # finishes after job-seconds), SIGTERM the forceful one (the job is aborted at once).
    note() { printf '%s %s\\n' "$(date +%s%3N)" "gitlab-runner $*" >>"$STUB_CALLS"; }
    quit_at=0
    job_ms=0
    on_quit() {
      note got SIGQUIT
      quit_at=$(date +%s%3N)
      job_ms=$(awk '{ printf "%d", $1 * 1000 }' "$STUB_DIR/job-seconds" 2>/dev/null)
      [[ -n "$job_ms" ]] || job_ms=0
    }
    on_term() {
      note got SIGTERM
      note aborted running jobs: failed with runner_system_failure
      note exited
      exit 0
    }
    trap on_quit QUIT
    trap on_term TERM
    while :; do
      if ((quit_at > 0 && $(date +%s%3N) - quit_at >= job_ms)); then note exited; exit 0; fi
      sleep 0.05
    done
    ;;
esac
`;

/** SHA-256 of the stub runner binary, as a fleet would pin it. */
export const STUB_RUNNER_SHA256 = createHash('sha256').update(STUB_RUNNER).digest('hex');

export interface Call {
  at: number;
  line: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'grf-instance-'));
  readonly root = join(this.dir, 'root');
  readonly stubs = join(this.dir, 'stubs');
  readonly callsFile = join(this.dir, 'calls.log');
  readonly downloads = join(this.dir, 'downloads');
  readonly runDir = join(this.root, 'run', 'gitlab-runner-fleet');
  readonly configDir = join(this.root, 'etc', 'gitlab-runner');
  readonly runnerBin = join(this.root, 'usr', 'local', 'bin', 'gitlab-runner');

  constructor() {
    mkdirSync(this.root, { recursive: true });
    mkdirSync(this.stubs, { recursive: true });
    writeFileSync(this.callsFile, '');
    for (const [name, body] of Object.entries(STUBS)) {
      const path = join(this.stubs, name);
      writeFileSync(path, `#!/bin/bash\nprintf '%s %s\\n' "$(date +%s%3N)" "${name} $*" >>"$STUB_CALLS"\n${body}\n`);
      chmodSync(path, 0o755);
    }
  }

  /** Serves the stub runner as the release binary for `architecture`, with a release.sha256 (or a wrong one). */
  publishRunner(architecture: 'arm64' | 'amd64', checksum: 'good' | 'bad' | 'none' = 'good'): string {
    const release = join(this.downloads, `v${RUNNER_VERSION}`);
    mkdirSync(join(release, 'binaries'), { recursive: true });
    writeFileSync(join(release, 'binaries', `gitlab-runner-linux-${architecture}`), STUB_RUNNER);
    const sha = createHash('sha256')
      .update(checksum === 'bad' ? 'tampered' : STUB_RUNNER)
      .digest('hex');
    if (checksum !== 'none') {
      const other = architecture === 'arm64' ? 'amd64' : 'arm64';
      writeFileSync(
        join(release, 'release.sha256'),
        `${'0'.repeat(64)} *binaries/gitlab-runner-linux-${other}\n${sha} *binaries/gitlab-runner-linux-${architecture}\n`,
      );
    }
    return `file://${this.downloads}`;
  }

  /** The value `aws secretsmanager get-secret-value` returns; undefined makes it fail. */
  setSecret(token: string | undefined): void {
    const path = join(this.dir, 'secret');
    if (token === undefined) rmSync(path, { force: true });
    else writeFileSync(path, token);
  }

  /** The value of one named secret (`--secret-id`), preferred over {@link setSecret}'s catch-all value. */
  setNamedSecret(secretId: string, value: string): void {
    mkdirSync(join(this.dir, 'secrets'), { recursive: true });
    writeFileSync(join(this.dir, 'secrets', secretId.replace(/\//g, '_')), value);
  }

  /** How long the stub runner's "job" keeps running after SIGQUIT. */
  setJobSeconds(seconds: number): void {
    writeFileSync(join(this.dir, 'job-seconds'), String(seconds));
  }

  /** Makes every `nft` call fail, as it does without CAP_NET_ADMIN or nf_tables. */
  setNftFails(): void {
    writeFileSync(join(this.dir, 'nft-fails'), '');
  }

  /** The nftables rulesets loaded with `nft -f`, in order, each with the millisecond it was loaded at. */
  nftRulesets(): { at: number; rules: string }[] {
    const path = join(this.dir, 'nft-rulesets.log');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split(/^--- ruleset /m)
      .filter(Boolean)
      .map((block) => {
        const newline = block.indexOf('\n');
        return { at: Number(block.slice(0, newline)), rules: block.slice(newline + 1) };
      });
  }

  /** Makes complete-lifecycle-action fail as it does when no action is pending. */
  setNoLifecycleAction(): void {
    writeFileSync(join(this.dir, 'no-lifecycle-action'), '');
  }

  /** Starts the stub `gitlab-runner run` as if systemd had started it. */
  startRunner(): number {
    const child = spawn(this.runnerBinOrStub(), ['run'], { env: this.env({}), stdio: 'ignore', detached: true });
    child.unref();
    writeFileSync(join(this.dir, 'runner.pid'), String(child.pid));
    return child.pid!;
  }

  runnerPid(): number {
    const path = join(this.dir, 'runner.pid');
    return existsSync(path) ? Number(readFileSync(path, 'utf8')) : 0;
  }

  runnerAlive(): boolean {
    const pid = this.runnerPid();
    if (!pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private runnerBinOrStub(): string {
    if (existsSync(this.runnerBin)) return this.runnerBin;
    const path = join(this.dir, 'gitlab-runner-stub');
    writeFileSync(path, STUB_RUNNER);
    chmodSync(path, 0o755);
    return path;
  }

  /** Environment for a script run: stubs first on PATH, every path under the sandbox root. */
  env(extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
      PATH: `${this.stubs}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: this.dir,
      LANG: 'C',
      GRF_ROOT: this.root,
      GRF_RETRY_BASE_MS: '50',
      GRF_RETRY_MAX_MS: '200',
      STUB_CALLS: this.callsFile,
      STUB_DIR: this.dir,
      STUB_RUNNER_BIN: this.runnerBin,
      ...extra,
    };
  }

  /** Runs `bash file` with the sandbox environment; kills it after timeoutMs. */
  run(file: string, extra: Record<string, string>, timeoutMs = 20_000): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn('bash', [file], { cwd: this.dir, env: this.env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Starts `bash file` in the background; `stop` kills it and everything it started, and waits; `stdout` is its output so far. */
  start(file: string, extra: Record<string, string>): { stop: () => Promise<RunResult>; done: Promise<RunResult>; stdout: () => string } {
    const child = spawn('bash', [file], { cwd: this.dir, env: this.env(extra), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<RunResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      return done;
    };
    return { stop, done, stdout: () => stdout };
  }

  calls(): Call[] {
    return readFileSync(this.callsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((raw) => {
        const space = raw.indexOf(' ');
        return { at: Number(raw.slice(0, space)), line: raw.slice(space + 1) };
      });
  }

  /** A file the scripts wrote, by its path under the sandbox root. */
  file(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  /**
   * Every process running a program from inside this sandbox: the runner as the scripts restarted
   * it (runner.pid names only the last start), agents and helpers a killed script left behind.
   * The sandbox folder is a fresh mkdtemp, so no other process names it.
   */
  private processesInside(): number[] {
    if (!existsSync('/proc')) return [];
    const inside = `${this.dir}/`;
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(inside);
        } catch {
          return false; // gone meanwhile
        }
      })
      .map(Number);
  }

  dispose(): void {
    // A runner left running spins for ever (its stub polls every 50 ms) after its folder is gone.
    for (const pid of new Set([this.runnerPid(), ...this.processesInside()])) {
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
