/**
 * `runner-fleet orphans`: lists, dry-run, the GitLab runner managers of each fleet that have no
 * instance behind them any more: the ones the orphan reaper Lambda would remove. Same survey
 * and rules as the reaper (lib/lambda/orphan-reaper), run from a workstation; removes nothing.
 *
 * Tokens come from the environment, else from Secrets Manager with the local AWS credentials:
 * - GITLAB_API_TOKEN: a token that can read the fleets' runners (read_api), else the secret
 *   `orphanReaper.apiTokenSecretName`;
 * - GITLAB_RUNNER_TOKEN_<FLEET> (fleet name upper-cased, `-` as `_`, e.g.
 *   GITLAB_RUNNER_TOKEN_GRAVITON_SPOT): the fleet's glrt- token, else the fleet's token secret;
 *   a mixed fleet's second (on-demand) runner: GITLAB_RUNNER_TOKEN_<FLEET>_ONDEMAND, else its
 *   on-demand token secret. Both runners are surveyed.
 * Instances are listed with the local AWS credentials (AWS_PROFILE, AWS_REGION or --region).
 * No token is ever printed: output is scrubbed of every token read.
 *
 * The AWS SDK is loaded only when the command runs, so the rest of the CLI starts fast.
 */
import { Option, type Command } from 'commander';
import type { FleetConfig } from '../config/fleet-config';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { GitLabRunnerClient } from '../gitlab/client';
import { GitLabApiError, redactSecrets } from '../gitlab/errors';
import { orphansOf, type ClassifiedManager } from '../lambda/orphan-reaper/core';
import { mapLimited, surveyFleet, type FleetSurvey, type SurveyPorts } from '../lambda/orphan-reaper/survey';
import { fleetTargets, type FleetTarget } from '../lambda/shared/handler-config';
import { numberIn, regionName } from './option-parsers';
import { ExitCodeError, PROCESS_OUTPUT, UsageError, type CliOutput } from './program';

/** Environment variable holding the GitLab API (read) token. */
export const GITLAB_API_TOKEN_ENV = 'GITLAB_API_TOKEN';

/**
 * Environment variable holding a fleet's glrt- runner token, e.g. GITLAB_RUNNER_TOKEN_GRAVITON_SPOT;
 * `_ONDEMAND` appended for a mixed fleet's second, on-demand runner.
 */
export function runnerTokenEnvName(fleetName: string, onDemandRunner = false): string {
  return `GITLAB_RUNNER_TOKEN_${fleetName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}${onDemandRunner ? '_ONDEMAND' : ''}`;
}

/**
 * Exit codes of `runner-fleet orphans`: a script can tell "no orphans" from "could not look".
 * 1 is every command's code for a mistake in the config or the command line.
 */
export const ORPHANS_EXIT_CODES = {
  /** Every fleet was checked (a fleet whose group is not deployed counts as checked). */
  checked: 0,
  /** A bad config or option. */
  usage: 1,
  /** At least one fleet could not be checked: no region, no credentials, a token missing, GitLab or AWS unreachable. */
  couldNotCheck: 3,
} as const;

export const ORPHANS_FORMATS = ['table', 'json'] as const;
export type OrphansFormat = (typeof ORPHANS_FORMATS)[number];

export interface OrphansOptions {
  readonly config: string;
  readonly fleet?: string;
  readonly region?: string;
  /** Overrides `orphanReaper.graceMinutes`. */
  readonly grace?: number;
  /** Lists every manager with its verdict, not only orphans. */
  readonly all?: boolean;
  readonly format: OrphansFormat;
}

/** Everything the orphan listing needs from outside; injected by tests. */
export interface OrphansPorts extends SurveyPorts {
  readonly now: Date;
  /** Tokens read so far, to scrub from the output. */
  knownSecrets(): readonly string[];
}

/** Surveys the fleets of a config (or one of them). Pure orchestration over the ports. */
export async function listOrphans(
  config: FleetConfig,
  ports: OrphansPorts,
  options: { fleet?: string; graceMinutes?: number } = {},
): Promise<FleetSurvey[]> {
  const targets = selectFleets(config, options.fleet);
  const graceMinutes = options.graceMinutes ?? config.orphanReaper.graceMinutes;
  return mapLimited(targets, 4, (fleet) => surveyFleet(fleet, ports, { now: ports.now, graceMinutes }));
}

function selectFleets(config: FleetConfig, name: string | undefined): FleetTarget[] {
  const targets = fleetTargets(config.fleets);
  if (name === undefined) return targets;
  const match = targets.filter((t) => t.name === name);
  if (match.length === 0)
    throw new UsageError(`--fleet "${name}" is not a fleet of the config; allowed: ${targets.map((t) => t.name).join(', ')}`);
  return match;
}

/** A table per runner of each fleet: system_id, created, contacted, status, and why it is (or is not) an orphan. */
export function formatOrphanTables(surveys: readonly FleetSurvey[], options: { all?: boolean; graceMinutes: number }): string {
  const blocks = surveys.map((survey) => {
    const heading = `${survey.fleet.name} (group ${survey.fleet.autoScalingGroupName})`;
    if (survey.status === 'skipped') return `${heading}\n  skipped, nothing decided: ${survey.reason}\n`;
    const mixed = survey.runners.length > 1;
    const parts = survey.runners.map(({ runner, runnerId, managers }) => {
      const orphans = orphansOf(managers);
      const shown = options.all ? managers : orphans;
      const summary =
        `  runner ${runnerId}${mixed ? ` (${runner.onDemand ? 'on-demand' : 'spot'})` : ''}: ${managers.length} manager${plural(managers.length)}, ` +
        `${survey.existingInstanceIds.length} existing instance${plural(survey.existingInstanceIds.length)}, ` +
        `${orphans.length} orphan${plural(orphans.length)} (grace ${options.graceMinutes} min)`;
      if (shown.length === 0) return `${summary}\n`;
      const header = [
        'SYSTEM_ID',
        'CREATED',
        'CONTACTED',
        'STATUS',
        ...(options.all ? ['VERDICT'] : []),
        options.all ? 'WHY' : 'WHY ORPHANED',
      ];
      return `${summary}\n${table([header, ...shown.map((c) => row(c, options.all === true))])}`;
    });
    return `${heading}\n${parts.join('')}`;
  });
  return blocks.join('\n');
}

/**
 * The listing as JSON, for scripts. `runnerId` is the fleet's first runner; `runnerIds` all of
 * them (two for a mixed fleet), and each manager names its runner.
 */
export function orphansJson(surveys: readonly FleetSurvey[], options: { all?: boolean }): string {
  const fleets = surveys.map((survey) => {
    if (survey.status === 'skipped') return { fleet: survey.fleet.name, status: survey.status, reason: survey.reason };
    return {
      fleet: survey.fleet.name,
      status: survey.status,
      runnerId: survey.runners[0].runnerId,
      runnerIds: survey.runners.map((r) => r.runnerId),
      existingInstances: survey.existingInstanceIds.length,
      managers: survey.runners.flatMap(({ runnerId, managers }) =>
        (options.all ? managers : orphansOf(managers)).map((c) => ({
          runnerId,
          systemId: c.manager.system_id,
          createdAt: c.manager.created_at,
          contactedAt: c.manager.contacted_at,
          status: c.manager.status ?? null,
          verdict: c.verdict,
          reason: c.reason,
        })),
      ),
    };
  });
  return `${JSON.stringify({ fleets }, null, 2)}\n`;
}

/** Optional replacements for the AWS/GitLab/environment parts of the command, for tests. */
export interface OrphansCommandOverrides {
  readonly env?: NodeJS.ProcessEnv;
  readonly gitlab?: SurveyPorts['gitlab'];
  readonly existingInstanceIds?: SurveyPorts['existingInstanceIds'];
  readonly readSecret?: (secretName: string) => Promise<string>;
  readonly now?: () => Date;
}

/** Adds the `orphans` subcommand to the program. */
export function registerOrphansCommand(
  program: Command,
  output: CliOutput = PROCESS_OUTPUT,
  overrides: OrphansCommandOverrides = {},
): Command {
  return program
    .command('orphans')
    .description(
      'List, without removing anything, the GitLab runner managers whose instances no longer exist (what the orphan reaper would remove). ' +
        `Tokens: ${GITLAB_API_TOKEN_ENV} and GITLAB_RUNNER_TOKEN_<FLEET>, else Secrets Manager with your AWS credentials.`,
    )
    .option('-c, --config <file>', 'fleet configuration file', DEFAULT_CONFIG_FILE)
    .option('--fleet <name>', 'only this fleet')
    .option('-r, --region <region>', 'AWS region of the fleets (default: AWS_REGION or your profile)', regionName)
    .option(
      '--grace <minutes>',
      'managers younger than this are never orphans (default: orphanReaper.graceMinutes)',
      numberIn(0, 10_080, 'minutes'),
    )
    .option('--all', 'list every manager with its verdict, not only orphans')
    .addOption(new Option('-f, --format <format>', 'output format').choices(ORPHANS_FORMATS).default('table'))
    .addHelpText(
      'after',
      `\nExit codes: ${ORPHANS_EXIT_CODES.checked} every fleet checked, ${ORPHANS_EXIT_CODES.usage} bad config or option, ` +
        `${ORPHANS_EXIT_CODES.couldNotCheck} some fleet could not be checked (the output says why and what to set).`,
    )
    .action(async (options: OrphansOptions) => {
      const config = loadFleetConfig(options.config);
      const surveys = await surveyOrphans(config, options, overrides);
      output.out(renderOrphans(surveys, config, options, output));
      const failed = surveys.filter((s) => s.status === 'skipped' && s.failed);
      if (failed.length > 0) {
        throw new ExitCodeError(
          `could not check ${failed.length} of ${surveys.length} fleet${plural(surveys.length)} (${failed.map((s) => s.fleet.name).join(', ')}); nothing was decided for ${failed.length === 1 ? 'it' : 'them'}`,
          ORPHANS_EXIT_CODES.couldNotCheck,
        );
      }
    });
}

/** Runs the listing and renders it, scrubbed of every token it read. */
export async function orphansCommandOutput(
  options: OrphansOptions,
  output: CliOutput = PROCESS_OUTPUT,
  overrides: OrphansCommandOverrides = {},
): Promise<string> {
  const config = loadFleetConfig(options.config);
  return renderOrphans(await surveyOrphans(config, options, overrides), config, options, output);
}

type ScrubbedSurveys = FleetSurvey[] & { readonly knownSecrets: readonly string[] };

async function surveyOrphans(config: FleetConfig, options: OrphansOptions, overrides: OrphansCommandOverrides): Promise<ScrubbedSurveys> {
  const ports = await commandPorts(config, options, overrides);
  const surveys = await listOrphans(config, ports, { fleet: options.fleet, graceMinutes: options.grace });
  return Object.assign(surveys, { knownSecrets: ports.knownSecrets() });
}

function renderOrphans(surveys: ScrubbedSurveys, config: FleetConfig, options: OrphansOptions, output: CliOutput): string {
  const graceMinutes = options.grace ?? config.orphanReaper.graceMinutes;
  for (const s of surveys) {
    if (s.status === 'skipped') output.err(redactSecrets(`warning: fleet ${s.fleet.name} skipped: ${s.reason}\n`, surveys.knownSecrets));
  }
  const text = options.format === 'json' ? orphansJson(surveys, options) : formatOrphanTables(surveys, { all: options.all, graceMinutes });
  return redactSecrets(text, surveys.knownSecrets);
}

/**
 * Says what to set when a local AWS or GitLab call fails for a reason the user can fix: the
 * SDK's "Region is missing" does not mention --region.
 */
export function explainLookupError(error: unknown, gitlabUrl: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : '';
  if (/region is missing/i.test(message)) return new Error('no AWS region: pass --region <region> or set AWS_REGION');
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new Error(
      'no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); ' +
        `tokens can also come from ${GITLAB_API_TOKEN_ENV} and GITLAB_RUNNER_TOKEN_<FLEET>, but listing instances needs credentials`,
    );
  }
  if (error instanceof GitLabApiError && error.status === undefined) {
    return new Error(
      `GitLab at ${gitlabUrl} did not answer (${message}); check gitlab.url in the config and that this machine can reach it`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

async function commandPorts(config: FleetConfig, options: OrphansOptions, overrides: OrphansCommandOverrides): Promise<OrphansPorts> {
  const env = overrides.env ?? process.env;
  const known: string[] = [];
  const remember = (token: string) => {
    known.push(token);
    return token;
  };
  let readSecret = overrides.readSecret;
  let existingInstanceIds = overrides.existingInstanceIds;
  if (!readSecret || !existingInstanceIds) {
    // Loaded only here, so the AWS SDK costs nothing for the other commands.
    const aws = await import('./orphans-aws.js');
    const clients = aws.awsClients(options.region);
    readSecret ??= (name) => aws.readToken(clients, name);
    existingInstanceIds ??= (fleet) => aws.existingInstances(clients, fleet);
  }
  const explain = (error: unknown): never => {
    throw explainLookupError(error, config.gitlab.url);
  };
  const listInstances = existingInstanceIds;
  existingInstanceIds = (fleet) => listInstances(fleet).catch(explain);
  const fromSecretStore = readSecret;
  const fromSecret = (name: string) => fromSecretStore(name).catch(explain);
  const secretCache = new Map<string, Promise<string>>();
  const secret = (name: string) => {
    let pending = secretCache.get(name);
    if (!pending) {
      pending = fromSecret(name).then(remember);
      secretCache.set(name, pending);
    }
    return pending;
  };
  return {
    now: overrides.now?.() ?? new Date(),
    gitlab: explainingGitLab(
      overrides.gitlab ?? new GitLabRunnerClient({ baseUrl: config.gitlab.url, timeoutMs: 10_000, maxAttempts: 3 }),
      explain,
    ),
    runnerToken: async (fleet, runner) => {
      const fromEnv = env[runnerTokenEnvName(fleet.name, runner.onDemand)];
      return fromEnv ? remember(fromEnv.trim()) : secret(runner.tokenSecretName);
    },
    apiToken: async () => {
      const fromEnv = env[GITLAB_API_TOKEN_ENV];
      return fromEnv ? remember(fromEnv.trim()) : secret(config.orphanReaper.apiTokenSecretName);
    },
    existingInstanceIds,
    knownSecrets: () => known,
  };
}

function explainingGitLab(gitlab: SurveyPorts['gitlab'], explain: (error: unknown) => never): SurveyPorts['gitlab'] {
  return {
    verifyRunner: (token) => gitlab.verifyRunner(token).catch(explain),
    listRunnerManagers: (runnerId, token) => gitlab.listRunnerManagers(runnerId, token).catch(explain),
  };
}

function row(c: ClassifiedManager, all: boolean): string[] {
  return [
    c.manager.system_id,
    when(c.manager.created_at),
    when(c.manager.contacted_at),
    c.manager.status ?? '-',
    ...(all ? [c.verdict] : []),
    c.reason,
  ];
}

function when(iso: string | null): string {
  if (!iso) return 'never';
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z` : iso;
}

function table(rows: readonly string[][]): string {
  const widths = rows[0].map((_h, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}\n`).join('');
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
