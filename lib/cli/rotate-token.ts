/**
 * `runner-fleet rotate-token <fleet>`: replaces the GitLab runner token(s) of a fleet that owns
 * its runners (config `gitlabRunner`) without stopping a job:
 *
 * 1. create a new runner per runner object, configured from the config like the deployment does;
 * 2. write its token into the fleet's token secret (new instances register with it);
 * 3. roll the fleet with an instance refresh: every old instance goes through the terminate hook,
 *    whose drain agent lets running jobs finish and deregisters its manager;
 * 4. delete the old runner once no manager uses it any more.
 *
 * The steps live in lib/rotation/token-rotation.ts, shared with the scheduled rotation (config
 * `gitlabRunner.rotation`, lib/fleet/token-rotation.ts); this command runs them in a loop in the
 * terminal. Why a new runner rather than a reset of the shared token is written there too.
 *
 * The custom resource follows: it finds its runner through the token in the secret, so the next
 * deployment updates the new runner. Exit codes: 0 rotated; 1 a usage, credential or GitLab
 * permission problem; 3 the roll or the drain did not finish in time (the old runner is kept,
 * rerun after checking `runner-fleet status`); 70 a bug.
 */
import { CommanderError, type Command } from 'commander';
import type { FleetConfig, FleetSpec } from '../config/fleet-config';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { GitLabRunnerClient } from '../gitlab/client';
import { redactSecrets } from '../gitlab/errors';
import { GITLAB_FEATURES } from '../gitlab/version';
import { autoScalingGroupName } from '../identity/runner-identity';
import { rotationTarget } from '../rotation/rotation-target';
import {
  advanceRotation,
  beginRotation,
  unfinishedRotation,
  type RotatedRunner,
  type TokenRotationPorts,
} from '../rotation/token-rotation';
import { regionName, numberIn } from './option-parsers';
import { PROCESS_OUTPUT, UsageError, type CliOutput } from './program';
import { FleetTokens, gitlabUserError, gitlabVersionCheck, selectFleet, type FleetCommandOverrides } from './status';

/** Exit code when the roll or the drain did not finish in time. */
export const ROTATION_INCOMPLETE_EXIT_CODE = 3;

export interface RotationPorts {
  readonly gitlab: GitLabRunnerClient;
  readonly tokens: FleetTokens;
  readonly writeSecret: (secretName: string, token: string) => Promise<void>;
  readonly startInstanceRefresh: (groupName: string, minHealthyPercentage: number) => Promise<string>;
  readonly refreshStatus: (groupName: string, refreshId: string) => Promise<string>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
}

export interface RotationSettings {
  /** Time between checks of the refresh and the old runner's managers, in ms. */
  readonly pollMs: number;
  /** Longest wait for the refresh plus the drain, in ms. */
  readonly timeoutMs: number;
}

export interface RotationResult {
  readonly fleet: string;
  readonly runners: readonly RotatedRunner[];
  readonly complete: boolean;
}

/** Rotates the tokens of one fleet; see the module doc for the steps (lib/rotation/token-rotation.ts runs them). */
export async function rotateFleetToken(fleet: FleetSpec, ports: RotationPorts, settings: RotationSettings): Promise<RotationResult> {
  if (!fleet.managedRunner) {
    throw new UsageError(
      `fleet ${fleet.name} does not own its GitLab runner (no gitlabRunner in the config): create a new runner in GitLab, put its token into ` +
        `${fleet.runnerTokenSecretName}, then start an instance refresh of ${autoScalingGroupName(fleet.name, fleet.deployment)}`,
    );
  }
  const target = rotationTarget(fleet);
  const api = await ports.tokens.api(fleet);
  // Before creating anything: a GitLab too old for the runner endpoints fails here, in one line.
  await gitlabVersionCheck(ports.gitlab, [GITLAB_FEATURES.runnerCreation, GITLAB_FEATURES.runnerManagers], (message) =>
    ports.log(`warning: ${message}`),
  )(api.token);
  const core: TokenRotationPorts = {
    gitlab: ports.gitlab,
    accessToken: api.token,
    readRunnerToken: (runner) => ports.tokens.runner(fleet, runner.computeType, runner.tokenSecretName),
    writeSecret: ports.writeSecret,
    remember: (token) => ports.tokens.remember(token),
    startInstanceRefresh: ports.startInstanceRefresh,
    refreshStatus: ports.refreshStatus,
    log: ports.log,
    gitlabError: (error) => gitlabUserError(error, api.source, 'the create_runner and manage_runner scopes'),
  };
  let state = await beginRotation(target, core);
  // Time is counted in polls, so the bound holds with any sleep (tests inject an instant one).
  let waited = 0;
  let step = await advanceRotation(target, state, core);
  while ((step.progress.phase === 'refreshing' || step.progress.phase === 'draining') && waited < settings.timeoutMs) {
    await ports.sleep(settings.pollMs);
    waited += settings.pollMs;
    step = await advanceRotation(target, step.state, core);
  }
  state = step.state;
  if (step.progress.phase !== 'failed') for (const line of unfinishedRotation(target, state, step.progress)) ports.log(line);
  return {
    fleet: fleet.name,
    runners: state.runners,
    complete: step.progress.phase === 'done',
  };
}

export interface RotateOptions {
  readonly config: string;
  readonly region?: string;
  readonly pollSeconds: number;
  readonly timeoutMinutes: number;
}

export interface RotateOverrides extends FleetCommandOverrides {
  readonly sleep?: (ms: number) => Promise<void>;
}

export function registerRotateTokenCommand(program: Command, output: CliOutput = PROCESS_OUTPUT, overrides: RotateOverrides = {}): Command {
  return program
    .command('rotate-token')
    .description(
      'Replace the GitLab runner token(s) of a fleet that owns its runners without stopping a job: new runner, secret updated, ' +
        `instance refresh through the drain hook, old runner deleted once no manager uses it. Exits ${ROTATION_INCOMPLETE_EXIT_CODE} if that does not finish in time.`,
    )
    .argument('<fleet>', 'fleet name')
    .option('-c, --config <file>', 'fleet configuration file', DEFAULT_CONFIG_FILE)
    .option('-r, --region <region>', 'AWS region of the fleet (default: AWS_REGION or your profile)', regionName)
    .option('--poll-seconds <seconds>', 'time between progress checks', numberIn(0, 3600, 'seconds'), 30)
    .option(
      '--timeout-minutes <minutes>',
      'longest wait for the roll and the drain (default: 2 x the job timeout + 30)',
      numberIn(0, 10_080, 'minutes'),
    )
    .action(async (fleetName: string, options: Omit<RotateOptions, 'timeoutMinutes'> & { timeoutMinutes?: number }) => {
      const config = loadFleetConfig(options.config);
      const [fleet] = selectFleet(config, fleetName, '<fleet>');
      const result = await runRotation(config, fleet, options, output, overrides);
      if (!result.complete)
        throw new CommanderError(ROTATION_INCOMPLETE_EXIT_CODE, 'runner-fleet.rotate.incomplete', 'rotation incomplete');
    });
}

async function runRotation(
  config: FleetConfig,
  fleet: FleetSpec,
  options: Omit<RotateOptions, 'timeoutMinutes'> & { timeoutMinutes?: number },
  output: CliOutput,
  overrides: RotateOverrides,
): Promise<RotationResult> {
  const awsSide = await import('./fleet-aws.js');
  const clients = overrides.clients ?? awsSide.fleetAwsClients(options.region);
  const tokens = new FleetTokens(config, overrides.env ?? process.env, (name) => awsSide.readSecretToken(clients, name));
  const log = (line: string) => output.out(`${redactSecrets(line, tokens.known)}\n`);
  try {
    return await rotateFleetToken(
      fleet,
      {
        gitlab: overrides.gitlab ?? new GitLabRunnerClient({ baseUrl: config.gitlab.url, timeoutMs: 10_000, maxAttempts: 4 }),
        tokens,
        writeSecret: (name, token) => awsSide.writeSecretToken(clients, name, token),
        startInstanceRefresh: (group, minHealthy) => awsSide.startInstanceRefresh(clients, group, minHealthy),
        refreshStatus: (group, id) => awsSide.instanceRefreshStatus(clients, group, id),
        sleep: overrides.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
        log,
      },
      { pollMs: options.pollSeconds * 1000, timeoutMs: (options.timeoutMinutes ?? 2 * fleet.maxJobTimeoutMinutes + 30) * 60_000 },
    );
  } catch (error) {
    if (error instanceof Error) error.message = redactSecrets(error.message, tokens.known);
    throw error;
  }
}
