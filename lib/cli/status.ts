/**
 * `runner-fleet status [--config file] [--format table|json]`: for each fleet, the Auto Scaling
 * group and its instances next to the GitLab runner(s) and their managers, and the mismatches
 * between the two. Exits 2 when any mismatch is found, so it serves as a health check.
 *
 * Tokens come from the environment, else Secrets Manager with the local AWS credentials:
 * GITLAB_API_TOKEN (read access to the runners: read_api, or manage_runner), else the fleet's
 * gitlabRunner.accessTokenSecretName, else orphanReaper.apiTokenSecretName; the runner tokens
 * (only used to find the runner id) from GITLAB_RUNNER_TOKEN_<FLEET> (`_ONDEMAND` appended for a
 * mixed fleet's second runner), else the token secrets. No token is ever printed.
 *
 * Before reading runner managers it checks the GitLab version (GET /api/v4/version): one older
 * than GET /runners/:id/managers needs fails with one line; a version it may not read is a warning.
 *
 * Exit codes: 0 no mismatch; 2 a mismatch; 1 a usage, credential or GitLab permission problem, or
 * a GitLab too old (one line on stderr); 70 a bug.
 */
import { CommanderError, Option, type Command } from 'commander';
import type { FleetConfig, FleetSpec } from '../config/fleet-config';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { GitLabRunnerClient } from '../gitlab/client';
import { GitLabApiError, redactSecrets } from '../gitlab/errors';
import { GITLAB_FEATURES, GitLabVersionError, requireGitLabVersion, type GitLabFeature } from '../gitlab/version';
import { autoScalingGroupName } from '../identity/runner-identity';
import { LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS } from '../fleet/lifecycle-timing';
import { GITLAB_API_TOKEN_ENV, runnerTokenEnvName } from './orphans';
import { regionName } from './option-parsers';
import { PROCESS_OUTPUT, PROGRAM_NAME, UsageError, type CliOutput } from './program';
import type { FleetAwsClients } from './fleet-aws';
import {
  expectedRunners,
  formatStatusTables,
  statusJson,
  withMismatches,
  type FleetStatus,
  type StatusGroup,
  type StatusRunner,
} from './status-report';

export const STATUS_FORMATS = ['table', 'json'] as const;
export type StatusFormat = (typeof STATUS_FORMATS)[number];

/** Exit code when a mismatch is found. */
export const MISMATCH_EXIT_CODE = 2;

export interface StatusOptions {
  readonly config: string;
  readonly fleet?: string;
  readonly region?: string;
  readonly format: StatusFormat;
}

/** Replacements for the AWS/GitLab/environment parts, for tests. */
export interface FleetCommandOverrides {
  readonly env?: NodeJS.ProcessEnv;
  readonly clients?: FleetAwsClients;
  readonly gitlab?: GitLabRunnerClient;
  readonly now?: () => Date;
}

/** Environment variable of the runner token of one of a fleet's runners. */
export function runnerObjectTokenEnvName(
  fleetName: string,
  computeType: 'spot' | 'on-demand',
  fleetComputeType: 'spot' | 'on-demand',
): string {
  return computeType === fleetComputeType ? runnerTokenEnvName(fleetName) : `${runnerTokenEnvName(fleetName)}_ONDEMAND`;
}

/** The token sources shared by `status` and `rotate-token`: environment first, then Secrets Manager; every token remembered for scrubbing. */
export class FleetTokens {
  readonly known: string[] = [];
  private readonly cache = new Map<string, Promise<string>>();

  constructor(
    private readonly config: FleetConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly readSecret: (name: string) => Promise<string>,
  ) {}

  secret(name: string): Promise<string> {
    let pending = this.cache.get(name);
    if (!pending) {
      pending = this.readSecret(name).then((t) => this.remember(t));
      this.cache.set(name, pending);
    }
    return pending;
  }

  /** A token that can read (and, for rotation, manage) the fleet's runners, and where it came from. */
  async api(fleet: FleetSpec): Promise<{ token: string; source: string }> {
    const fromEnv = this.env[GITLAB_API_TOKEN_ENV]?.trim();
    if (fromEnv) return { token: this.remember(fromEnv), source: GITLAB_API_TOKEN_ENV };
    const name = fleet.managedRunner?.accessTokenSecretName ?? this.config.orphanReaper.apiTokenSecretName;
    return { token: await this.secret(name), source: `secret ${name}` };
  }

  async runner(fleet: FleetSpec, computeType: 'spot' | 'on-demand', secretName: string): Promise<string> {
    const fromEnv = this.env[runnerObjectTokenEnvName(fleet.name, computeType, fleet.computeType)]?.trim();
    return fromEnv ? this.remember(fromEnv) : this.secret(secretName);
  }

  remember(token: string): string {
    this.known.push(token);
    return token;
  }
}

/** Selects the fleets a command acts on. */
export function selectFleet(config: FleetConfig, name: string | undefined, option = '--fleet'): FleetSpec[] {
  if (name === undefined) return [...config.fleets];
  const match = config.fleets.filter((f) => f.name === name);
  if (match.length === 0)
    throw new UsageError(`${option} "${name}" is not a fleet of the config; allowed: ${config.fleets.map((f) => f.name).join(', ')}`);
  return match;
}

/** A GitLab permission problem as a user error naming the token source and what it needs. */
export function gitlabUserError(error: unknown, source: string, needs: string): unknown {
  if (error instanceof GitLabApiError && (error.status === 401 || error.status === 403)) {
    const what = error.status === 401 ? 'is not valid (expired or revoked?)' : `lacks access: it needs ${needs}`;
    return new UsageError(`the GitLab token from ${source} ${what}: ${error.message}`);
  }
  return error;
}

/**
 * Checks, once, that the GitLab is new enough for `features` (GET /api/v4/version, with the API
 * token): a readable, too-old version becomes a one-line usage error (exit 1); a version the token
 * may not read, or a missing endpoint, goes to `warn` and the command goes on.
 */
export function gitlabVersionCheck(
  gitlab: Pick<GitLabRunnerClient, 'version' | 'baseUrl'>,
  features: readonly GitLabFeature[],
  warn: (message: string) => void,
): (apiToken: string) => Promise<void> {
  let checked: Promise<void> | undefined;
  return (apiToken) =>
    (checked ??= requireGitLabVersion(gitlab, apiToken, features, warn, gitlab.baseUrl).then(
      () => undefined,
      (error: unknown) => {
        throw error instanceof GitLabVersionError ? new UsageError(error.message) : error;
      },
    ));
}

export interface StatusPorts {
  readonly gitlab: GitLabRunnerClient;
  readonly tokens: FleetTokens;
  readonly describeGroup: (groupName: string) => Promise<StatusGroup | undefined>;
  readonly now: Date;
  /**
   * Fails when the GitLab is too old to list runner managers (see {@link gitlabVersionCheck}).
   * @default - no version check
   */
  readonly requireVersion?: (apiToken: string) => Promise<void>;
}

/** Gathers the facts of one fleet and finds its mismatches. */
export async function fleetStatus(fleet: FleetSpec, ports: StatusPorts): Promise<FleetStatus> {
  const group = await ports.describeGroup(autoScalingGroupName(fleet.name, fleet.deployment));
  const runners: StatusRunner[] = [];
  for (const expected of expectedRunners(fleet)) {
    let id: number;
    try {
      const token = await ports.tokens.runner(fleet, expected.computeType, expected.tokenSecretName);
      id = (await ports.gitlab.verifyRunner(token)).id;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const reason =
        error instanceof GitLabApiError && error.status === 403
          ? 'GitLab does not know its token (runner deleted?)'
          : String((error as Error).message ?? error);
      runners.push({ ...expected, managers: [], error: redactSecrets(reason, ports.tokens.known) });
      continue;
    }
    const api = await ports.tokens.api(fleet);
    await ports.requireVersion?.(api.token);
    try {
      const details = await ports.gitlab.getRunner(api.token, id);
      const managers = await ports.gitlab.listRunnerManagers(id, api.token);
      runners.push({ ...expected, id, details, managers });
    } catch (error) {
      throw gitlabUserError(error, api.source, 'read access to the runner (read_api or manage_runner scope)');
    }
  }
  return withMismatches({ fleet, group, runners }, { now: ports.now, launchTimeoutSeconds: LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS });
}

export function registerStatusCommand(
  program: Command,
  output: CliOutput = PROCESS_OUTPUT,
  overrides: FleetCommandOverrides = {},
): Command {
  return program
    .command('status')
    .description(
      'Show each fleet from AWS (group, instances) and from GitLab (runners, managers) with the mismatches between them; ' +
        `exits ${MISMATCH_EXIT_CODE} when there is one. Tokens: ${GITLAB_API_TOKEN_ENV}, GITLAB_RUNNER_TOKEN_<FLEET>, else Secrets Manager.`,
    )
    .option('-c, --config <file>', 'fleet configuration file', DEFAULT_CONFIG_FILE)
    .option('--fleet <name>', 'only this fleet')
    .option('-r, --region <region>', 'AWS region of the fleets (default: AWS_REGION or your profile)', regionName)
    .addOption(new Option('-f, --format <format>', 'output format').choices(STATUS_FORMATS).default('table'))
    .action(async (options: StatusOptions) => {
      const { text, mismatches } = await statusCommandOutput(options, overrides, (line) => output.err(line));
      output.out(text);
      if (mismatches > 0) {
        output.err(`runner-fleet: ${mismatches} mismatch${mismatches === 1 ? '' : 'es'} found\n`);
        throw new CommanderError(MISMATCH_EXIT_CODE, 'runner-fleet.status.mismatch', `${mismatches} mismatches`);
      }
    });
}

/** Runs `status` and renders it; `warn` gets whole lines (a version the token may not read, for one). */
export async function statusCommandOutput(
  options: StatusOptions,
  overrides: FleetCommandOverrides = {},
  warn: (line: string) => void = (line) => PROCESS_OUTPUT.err(line),
): Promise<{ text: string; mismatches: number }> {
  const config = loadFleetConfig(options.config);
  const fleets = selectFleet(config, options.fleet);
  const clients = overrides.clients ?? (await import('./fleet-aws.js')).fleetAwsClients(options.region);
  const awsSide = await import('./fleet-aws.js');
  const tokens = new FleetTokens(config, overrides.env ?? process.env, (name) => awsSide.readSecretToken(clients, name));
  const now = overrides.now?.() ?? new Date();
  const gitlab = overrides.gitlab ?? new GitLabRunnerClient({ baseUrl: config.gitlab.url, timeoutMs: 10_000, maxAttempts: 3 });
  const ports: StatusPorts = {
    gitlab,
    tokens,
    describeGroup: (name) => awsSide.describeGroup(clients, name),
    now,
    requireVersion: gitlabVersionCheck(gitlab, [GITLAB_FEATURES.runnerManagers], (message) =>
      warn(`${PROGRAM_NAME}: warning: ${redactSecrets(message, tokens.known)}\n`),
    ),
  };
  try {
    const statuses: FleetStatus[] = [];
    for (const fleet of fleets) statuses.push(await fleetStatus(fleet, ports));
    const text = options.format === 'json' ? statusJson(statuses, now) : formatStatusTables(statuses, now);
    return { text: redactSecrets(text, tokens.known), mismatches: statuses.reduce((n, s) => n + s.mismatches.length, 0) };
  } catch (error) {
    if (error instanceof Error) error.message = redactSecrets(error.message, tokens.known);
    throw error;
  }
}
