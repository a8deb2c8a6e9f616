/**
 * Token rotation without downtime, as one procedure for `runner-fleet rotate-token` (which
 * loops in the terminal) and the scheduled rotation (a Step Functions workflow whose Lambda
 * runs one step per invocation, so a roll may take hours):
 *
 * 1. {@link beginRotation}: per runner object, create a new runner configured like the old one
 *    and write its token into the fleet's token secret, then start an instance refresh. A
 *    failure before the refresh runs puts every old token back and deletes the new runners
 *    (those no instance registered with yet), so the fleet keeps working as before.
 * 2. {@link advanceRotation}, repeated: once the refresh succeeded (every old instance went
 *    through the drain hook), delete each old runner as soon as no manager uses it.
 *
 * Why not `POST /runners/:id/reset_authentication_token` on the shared token: every instance
 * authenticates with that one token, and a reset invalidates it at once, so every running
 * instance loses GitLab (jobs fail, managers go stale) until it is replaced. A new runner next
 * to the old one lets both tokens work while the fleet rolls.
 *
 * The state passed between steps holds runner ids and the refresh id only, never a token.
 * Pure: no AWS SDK, no CDK; GitLab and AWS are ports.
 */
import type { ComputeType } from '../config/fleet-config';
import type { GitLabRunnerClient } from '../gitlab/client';
import type { RunnerSettings, RunnerType } from '../gitlab/types';

/** One runner object of a fleet as rotation needs it. */
export interface RotationRunnerTarget {
  readonly computeType: ComputeType;
  readonly tokenSecretName: string;
  /** What the new runner is created with; the old runner's description is kept when it has one. */
  readonly settings: RunnerSettings;
}

/** Everything rotation needs to know about a fleet: plain data, written into the Lambda's configuration at synth. */
export interface RotationTarget {
  readonly fleetName: string;
  readonly autoScalingGroupName: string;
  readonly minHealthyPercentage: number;
  readonly runnerType: RunnerType;
  /** Group or project id or full path; absent for instance runners. */
  readonly namespace?: number | string;
  readonly accessTokenSecretName: string;
  /** In the order of fleetRunnerObjects: the fleet's own compute type first. */
  readonly runners: readonly RotationRunnerTarget[];
}

export interface RotatedRunner {
  readonly computeType: ComputeType;
  readonly oldId: number;
  readonly newId: number;
  readonly oldDeleted: boolean;
}

/** What is carried from one step to the next: ids only, never a token. */
export interface RotationState {
  readonly refreshId: string;
  readonly runners: readonly RotatedRunner[];
}

export type RotationProgress =
  /** The instance refresh is still replacing instances (old ones drain their jobs first). */
  | { readonly phase: 'refreshing'; readonly refreshStatus: string }
  /** Every instance was replaced; old runners still have managers (deregistration follows termination). */
  | { readonly phase: 'draining'; readonly managers: Readonly<Record<number, readonly string[]>> }
  | { readonly phase: 'done' }
  /** The refresh ended without success: old runners are kept, so both tokens keep working. */
  | { readonly phase: 'failed'; readonly refreshStatus: string };

export type RotationGitLab = Pick<
  GitLabRunnerClient,
  'verifyRunner' | 'getRunner' | 'namespaceId' | 'createRunner' | 'listRunnerManagers' | 'deleteRunner'
>;

export interface TokenRotationPorts {
  readonly gitlab: RotationGitLab;
  /** The access token (create_runner, manage_runner). */
  readonly accessToken: string;
  /** The glrt- token now in a runner object's secret. */
  readonly readRunnerToken: (runner: RotationRunnerTarget) => Promise<string>;
  readonly writeSecret: (secretName: string, token: string) => Promise<void>;
  /** Called with every token this procedure handles, before it could reach a log line or an error. */
  readonly remember: (token: string) => void;
  readonly startInstanceRefresh: (groupName: string, minHealthyPercentage: number) => Promise<string>;
  readonly refreshStatus: (groupName: string, refreshId: string) => Promise<string>;
  readonly log: (line: string) => void;
  /** Maps a failed GitLab call to the error to throw (e.g. one naming the missing scope). @default the error itself */
  readonly gitlabError?: (error: unknown) => unknown;
}

/** Refresh states after which AWS replaces nothing more. */
export const FINISHED_REFRESH_STATES: readonly string[] = ['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'];

/**
 * The instance refresh preferences of a rotation: every instance is replaced, also ones already
 * on the latest launch template (they hold the old token), `minHealthyPercentage` of the group
 * kept in service.
 */
export function rotationRefreshPreferences(minHealthyPercentage: number): {
  readonly MinHealthyPercentage: number;
  readonly SkipMatching: false;
  readonly InstanceWarmup: number;
} {
  return { MinHealthyPercentage: minHealthyPercentage, SkipMatching: false, InstanceWarmup: 60 };
}

/**
 * Longest a scheduled rotation may take: the refresh replaces `100 - minHealthy` percent of the
 * group per batch and each batch may wait a whole drain (the job timeout plus its margin), then
 * the last deregistrations.
 */
export function rotationTimeoutMinutes(maxJobTimeoutMinutes: number, minHealthyPercentage: number): number {
  const batches = Math.ceil(100 / Math.max(1, 100 - minHealthyPercentage));
  return Math.min(7 * 24 * 60, batches * (maxJobTimeoutMinutes + 15) + 60);
}

interface Swap {
  readonly runner: RotationRunnerTarget;
  readonly oldId: number;
  readonly oldToken: string;
  readonly newId: number;
}

/** Step 1: new runners, their tokens in the secrets, the instance refresh started. See the module doc. */
export async function beginRotation(target: RotationTarget, ports: TokenRotationPorts): Promise<RotationState> {
  const gitlab = gitlabCaller(ports);
  const swapped: Swap[] = [];
  try {
    for (const runner of target.runners) {
      const token = await ports.readRunnerToken(runner);
      ports.remember(token);
      const oldId = (await gitlab(() => ports.gitlab.verifyRunner(token))).id;
      const old = await gitlab(() => ports.gitlab.getRunner(ports.accessToken, oldId));
      const namespaceId =
        target.namespace === undefined || target.runnerType === 'instance_type'
          ? undefined
          : await gitlab(() =>
              ports.gitlab.namespaceId(ports.accessToken, target.runnerType === 'group_type' ? 'group' : 'project', target.namespace!),
            );
      // The description names the account and region, which only the deployment knows: keep the old runner's.
      const settings = { ...runner.settings, description: old.description ?? runner.settings.description };
      const created = await gitlab(() => ports.gitlab.createRunner(ports.accessToken, target.runnerType, namespaceId, settings));
      ports.remember(created.token);
      try {
        await ports.writeSecret(runner.tokenSecretName, created.token);
      } catch (error) {
        await deleteUnused(target, ports, created.id);
        throw error;
      }
      swapped.push({ runner, oldId, oldToken: token, newId: created.id });
      ports.log(
        `${target.fleetName}: created runner ${created.id} (${runner.computeType}) and stored its token in ${runner.tokenSecretName}; old runner ${oldId} keeps working`,
      );
    }
  } catch (error) {
    await rollBack(target, ports, swapped);
    throw error;
  }

  let refreshId: string;
  try {
    refreshId = await ports.startInstanceRefresh(target.autoScalingGroupName, target.minHealthyPercentage);
  } catch (error) {
    await rollBack(target, ports, swapped);
    throw error;
  }
  ports.log(
    `${target.fleetName}: instance refresh ${refreshId} started (min healthy ${target.minHealthyPercentage}%); instances drain their jobs first`,
  );
  return {
    refreshId,
    runners: swapped.map((s) => ({ computeType: s.runner.computeType, oldId: s.oldId, newId: s.newId, oldDeleted: false })),
  };
}

/**
 * Step 2, once per poll: where the refresh stands, and once it succeeded, each old runner
 * deleted as soon as it has no manager left. Idempotent: run it again after a failure.
 */
export async function advanceRotation(
  target: RotationTarget,
  state: RotationState,
  ports: Pick<TokenRotationPorts, 'gitlab' | 'accessToken' | 'refreshStatus' | 'log' | 'gitlabError'>,
): Promise<{ readonly state: RotationState; readonly progress: RotationProgress }> {
  const status = await ports.refreshStatus(target.autoScalingGroupName, state.refreshId);
  if (status !== 'Successful') {
    if (!FINISHED_REFRESH_STATES.includes(status)) return { state, progress: { phase: 'refreshing', refreshStatus: status } };
    ports.log(`${target.fleetName}: instance refresh ${state.refreshId} is ${status}; old runners ${oldIds(state)} are kept`);
    return { state, progress: { phase: 'failed', refreshStatus: status } };
  }
  const gitlab = gitlabCaller(ports);
  const runners: RotatedRunner[] = [];
  const waiting: Record<number, readonly string[]> = {};
  for (const runner of state.runners) {
    if (runner.oldDeleted) {
      runners.push(runner);
      continue;
    }
    // Deregistration follows termination; a runner with managers still has machines that may run jobs.
    const managers = await gitlab(() => ports.gitlab.listRunnerManagers(runner.oldId, ports.accessToken));
    if (managers.length > 0) {
      waiting[runner.oldId] = managers.map((m) => m.system_id);
      runners.push(runner);
      continue;
    }
    await gitlab(() => ports.gitlab.deleteRunner(ports.accessToken, runner.oldId));
    ports.log(`${target.fleetName}: old runner ${runner.oldId} (${runner.computeType}) had no managers left and is deleted`);
    runners.push({ ...runner, oldDeleted: true });
  }
  const next = { ...state, runners };
  return { state: next, progress: Object.keys(waiting).length > 0 ? { phase: 'draining', managers: waiting } : { phase: 'done' } };
}

/** What is left undone when a rotation stops before `done`, one line per fact, for logs and failure reasons. */
export function unfinishedRotation(target: RotationTarget, state: RotationState, progress: RotationProgress): string[] {
  if (progress.phase === 'refreshing' || progress.phase === 'failed')
    return [`${target.fleetName}: instance refresh ${state.refreshId} is ${progress.refreshStatus}; old runners ${oldIds(state)} are kept`];
  if (progress.phase === 'draining')
    return Object.entries(progress.managers).map(
      ([id, systemIds]) => `${target.fleetName}: old runner ${id} still has ${systemIds.length} manager(s) (${systemIds.join(', ')}); kept`,
    );
  return [];
}

function oldIds(state: RotationState): string {
  return state.runners
    .filter((r) => !r.oldDeleted)
    .map((r) => r.oldId)
    .join(', ');
}

function gitlabCaller(ports: Pick<TokenRotationPorts, 'gitlabError'>): <T>(call: () => Promise<T>) => Promise<T> {
  return async (call) => {
    try {
      return await call();
    } catch (error) {
      throw ports.gitlabError ? ports.gitlabError(error) : error;
    }
  };
}

/**
 * Puts each old token back and deletes each new runner, newest first, so the fleet is as before.
 * A new runner some instance already registered with (the group scaled out meanwhile) is kept
 * with its token in the secret: deleting it would fail that instance's jobs. Best effort: a step
 * that fails is logged and the others still run; the caller rethrows the original error.
 */
async function rollBack(target: RotationTarget, ports: TokenRotationPorts, swapped: readonly Swap[]): Promise<void> {
  for (const swap of [...swapped].reverse()) {
    try {
      const managers = await ports.gitlab.listRunnerManagers(swap.newId, ports.accessToken);
      if (managers.length > 0) {
        ports.log(
          `${target.fleetName}: runner ${swap.newId} (${swap.runner.computeType}) already has ${managers.length} manager(s); kept with its token in ${swap.runner.tokenSecretName}, old runner ${swap.oldId} too`,
        );
        continue;
      }
      await ports.writeSecret(swap.runner.tokenSecretName, swap.oldToken);
      await ports.gitlab.deleteRunner(ports.accessToken, swap.newId);
      ports.log(
        `${target.fleetName}: rolled back: ${swap.runner.tokenSecretName} holds the token of runner ${swap.oldId} again, runner ${swap.newId} deleted`,
      );
    } catch (error) {
      ports.log(
        `${target.fleetName}: could not roll back runner ${swap.newId} (${swap.runner.computeType}): ${error instanceof Error ? error.message : String(error)}; old runner ${swap.oldId} keeps working`,
      );
    }
  }
}

async function deleteUnused(target: RotationTarget, ports: TokenRotationPorts, runnerId: number): Promise<void> {
  try {
    await ports.gitlab.deleteRunner(ports.accessToken, runnerId);
    ports.log(`${target.fleetName}: its token could not be stored, so runner ${runnerId} is deleted again`);
  } catch (error) {
    ports.log(
      `${target.fleetName}: runner ${runnerId} could not be stored nor deleted (${error instanceof Error ? error.message : String(error)}); delete it in GitLab`,
    );
  }
}
