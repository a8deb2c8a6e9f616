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
 * Why not `POST /runners/:id/reset_authentication_token` on the shared token: every instance
 * of the fleet authenticates with that one token, and a reset invalidates it at once, so every
 * running instance loses GitLab (jobs fail, managers go stale) until it is replaced. A new
 * runner next to the old one lets both tokens work while the fleet rolls.
 *
 * The custom resource follows: it finds its runner through the token in the secret, so the next
 * deployment updates the new runner. Exit codes: 0 rotated; 1 a usage, credential or GitLab
 * permission problem; 3 the roll or the drain did not finish in time (the old runner is kept,
 * rerun after checking `runner-fleet status`); 70 a bug.
 */
import { CommanderError, type Command } from 'commander';
import type { FleetConfig, FleetRunnerObject, FleetSpec } from '../config/fleet-config';
import { fleetRunnerObjects } from '../config/fleet-config';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { GitLabRunnerClient } from '../gitlab/client';
import { redactSecrets } from '../gitlab/errors';
import { GITLAB_FEATURES } from '../gitlab/version';
import { autoScalingGroupName } from '../identity/runner-identity';
import { managedRunnerSettings, RUNNER_TYPES } from '../identity/managed-runner-settings';
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
  readonly runners: ReadonlyArray<{
    readonly computeType: string;
    readonly oldId: number;
    readonly newId: number;
    readonly oldDeleted: boolean;
  }>;
  readonly complete: boolean;
}

/** Rotates the tokens of one fleet; see the module doc for the steps. */
export async function rotateFleetToken(fleet: FleetSpec, ports: RotationPorts, settings: RotationSettings): Promise<RotationResult> {
  const managed = fleet.managedRunner;
  if (!managed) {
    throw new UsageError(
      `fleet ${fleet.name} does not own its GitLab runner (no gitlabRunner in the config): create a new runner in GitLab, put its token into ` +
        `${fleet.runnerTokenSecretName}, then start an instance refresh of ${autoScalingGroupName(fleet.name, fleet.deployment)}`,
    );
  }
  const api = await ports.tokens.api(fleet);
  // Before creating anything: a GitLab too old for the runner endpoints fails here, in one line.
  await gitlabVersionCheck(ports.gitlab, [GITLAB_FEATURES.runnerCreation, GITLAB_FEATURES.runnerManagers], (message) =>
    ports.log(`warning: ${message}`),
  )(api.token);
  const gitlab = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw gitlabUserError(error, api.source, 'the create_runner and manage_runner scopes');
    }
  };
  const swapped: Array<{ object: FleetRunnerObject; oldId: number; newId: number }> = [];
  for (const object of fleetRunnerObjects(fleet)) {
    const oldToken = await ports.tokens.runner(fleet, object.computeType, object.tokenSecretName);
    const oldId = (await gitlab(() => ports.gitlab.verifyRunner(oldToken))).id;
    const old = await gitlab(() => ports.gitlab.getRunner(api.token, oldId));
    const namespaceId =
      managed.namespace === undefined
        ? undefined
        : await gitlab(() => ports.gitlab.namespaceId(api.token, managed.scope === 'group' ? 'group' : 'project', managed.namespace!));
    // The description names the account and region, which only the deployment knows: keep the old runner's.
    const description = old.description ?? `gitlab-runner-fleet ${fleet.name} (${object.computeType})`;
    const created = await gitlab(() =>
      ports.gitlab.createRunner(api.token, RUNNER_TYPES[managed.scope], namespaceId, managedRunnerSettings(fleet, object, description)),
    );
    ports.tokens.remember(created.token);
    await ports.writeSecret(object.tokenSecretName, created.token);
    ports.log(
      `${fleet.name}: created runner ${created.id} (${object.computeType}) and stored its token in ${object.tokenSecretName}; old runner ${oldId} keeps working`,
    );
    swapped.push({ object, oldId, newId: created.id });
  }

  const group = autoScalingGroupName(fleet.name, fleet.deployment);
  // Time is counted in polls, so the bound holds with any sleep (tests inject an instant one).
  let waited = 0;
  const timeLeft = () => waited < settings.timeoutMs;
  const refreshId = await ports.startInstanceRefresh(group, fleet.minHealthyPercentage);
  ports.log(
    `${fleet.name}: instance refresh ${refreshId} started (min healthy ${fleet.minHealthyPercentage}%); instances drain their jobs first`,
  );
  let status = await ports.refreshStatus(group, refreshId);
  while (!['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].includes(status) && timeLeft()) {
    await ports.sleep(settings.pollMs);
    waited += settings.pollMs;
    status = await ports.refreshStatus(group, refreshId);
  }
  if (status !== 'Successful') {
    ports.log(`${fleet.name}: instance refresh ${refreshId} is ${status}; old runners ${swapped.map((s) => s.oldId).join(', ')} are kept`);
    return {
      fleet: fleet.name,
      runners: swapped.map((s) => ({ computeType: s.object.computeType, oldId: s.oldId, newId: s.newId, oldDeleted: false })),
      complete: false,
    };
  }

  const results: Array<RotationResult['runners'][number]> = [];
  for (const { object, oldId, newId } of swapped) {
    // Deregistration follows termination; a runner with managers still has machines that may run jobs.
    let managers = await gitlab(() => ports.gitlab.listRunnerManagers(oldId, api.token));
    while (managers.length > 0 && timeLeft()) {
      await ports.sleep(settings.pollMs);
      waited += settings.pollMs;
      managers = await gitlab(() => ports.gitlab.listRunnerManagers(oldId, api.token));
    }
    if (managers.length > 0) {
      ports.log(
        `${fleet.name}: old runner ${oldId} still has ${managers.length} manager(s) (${managers.map((m) => m.system_id).join(', ')}); kept`,
      );
      results.push({ computeType: object.computeType, oldId, newId, oldDeleted: false });
      continue;
    }
    await gitlab(() => ports.gitlab.deleteRunner(api.token, oldId));
    ports.log(`${fleet.name}: old runner ${oldId} (${object.computeType}) had no managers left and is deleted`);
    results.push({ computeType: object.computeType, oldId, newId, oldDeleted: true });
  }
  return { fleet: fleet.name, runners: results, complete: results.every((r) => r.oldDeleted) };
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
