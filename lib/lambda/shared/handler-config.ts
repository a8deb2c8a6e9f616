/**
 * What the fleet Lambdas know about the fleets: written by the constructs as a JSON file next
 * to the bundled handler (not environment variables, which are capped at 4 KB and would not
 * hold 100 fleets), read once per cold start. Pure: no CDK, no AWS SDK.
 *
 * The Lambdas take the GitLab URL and each fleet's token secret from here, never from instance
 * tags: whoever can tag an instance must not be able to send a runner token to another host.
 */
import { gitlabUrlProblem } from '../../identity/gitlab-url';
import { autoScalingGroupName } from '../../identity/runner-identity';
import { defaultRunnerTokenSecretName, fleetNameOfGroup } from '../../identity/deployment';
import type { FleetSpec, GitLabSettings } from '../../config/fleet-config';
import type { DemandHandlerConfig } from './demand-config';
import type { RotationTarget } from '../../rotation/token-rotation';

/** File name of the handler configuration inside the Lambda asset. */
export const HANDLER_CONFIG_FILE = 'handler-config.json';

/** File name of the private CA bundle inside the Lambda asset, when the GitLab uses one. */
export const CA_BUNDLE_FILE = 'gitlab-ca.pem';

export interface FleetTarget {
  readonly name: string;
  readonly autoScalingGroupName: string;
  /** Secrets Manager name of the fleet's glrt- runner token. */
  readonly tokenSecretName: string;
  /** Spot fallback only: the fleet's settings; absent for on-demand fleets. */
  readonly spotFallback?: {
    /** Off: a group left in fallback returns to its configured base on the next tick. */
    readonly enabled: boolean;
    /** The fleet's configured on-demand base: what the group returns to. */
    readonly onDemandBase: number;
    /** Minutes a capacity shortfall must last before on-demand takes over (0: at the first capacity error). */
    readonly afterMinutes: number;
    /** Minutes without a capacity error, in fallback, before the group returns to spot. */
    readonly returnAfterMinutes: number;
  };
  /** Mixed fleets with a second runner: the token secret of the on-demand instances' runner. */
  readonly onDemandTokenSecretName?: string;
}

export interface HandlerConfig {
  readonly gitlabUrl: string;
  /**
   * The config's deployment name. With one, a group of this deployment that `fleets` does not list
   * (a fleet launched later, e.g. from a catalog product) is still a fleet, with its default token secret.
   */
  readonly deployment?: string;
  readonly fleets: readonly FleetTarget[];
  /** Orphan reaper and safety net: secret holding a token that can read the fleets' runners (and, for the safety net, cancel and retry jobs). */
  readonly apiTokenSecretName?: string;
  /** Orphan reaper only: managers younger than this are never removed. */
  readonly graceMinutes?: number;
  /** Demand webhook and scaler only: the demand-scaled fleets. */
  readonly demand?: DemandHandlerConfig;
  /**
   * SSM path of the fleet registry (lib/identity/fleet-registry.ts); when set, the fleets
   * registered there for `gitlabUrl` are served too, read at every invocation.
   */
  readonly registryPath?: string;
  /** Token rotation only: the fleet whose runner tokens it rotates, and how long a rotation may take. */
  readonly rotation?: { readonly target: RotationTarget; readonly timeoutMinutes: number };
}

/** The fleets as the Lambdas see them. */
export function fleetTargets(fleets: readonly FleetSpec[]): FleetTarget[] {
  return fleets.map((fleet) => ({
    name: fleet.name,
    autoScalingGroupName: autoScalingGroupName(fleet.name, fleet.deployment),
    tokenSecretName: fleet.runnerTokenSecretName,
    ...(fleet.onDemandRunnerTokenSecretName ? { onDemandTokenSecretName: fleet.onDemandRunnerTokenSecretName } : {}),
  }));
}

/** Builds the configuration file content for a set of fleets. */
export function handlerConfig(
  fleets: readonly FleetSpec[],
  gitlab: GitLabSettings,
  extra: Pick<HandlerConfig, 'apiTokenSecretName' | 'graceMinutes' | 'demand' | 'registryPath' | 'rotation'> = {},
): HandlerConfig {
  const deployment = fleets[0]?.deployment;
  return { gitlabUrl: gitlab.url, ...(deployment === undefined ? {} : { deployment }), fleets: fleetTargets(fleets), ...extra };
}

/** Validates a configuration read from disk; throws naming the field at fault. */
export function parseHandlerConfig(text: string): HandlerConfig {
  const raw = JSON.parse(text) as Partial<HandlerConfig>;
  if (typeof raw.gitlabUrl !== 'string' || !URL.canParse(raw.gitlabUrl)) throw new Error(`${HANDLER_CONFIG_FILE}: gitlabUrl must be a URL`);
  const problem = gitlabUrlProblem(raw.gitlabUrl, true);
  if (problem) throw new Error(`${HANDLER_CONFIG_FILE}: gitlabUrl ${problem}`);
  if (!Array.isArray(raw.fleets)) throw new Error(`${HANDLER_CONFIG_FILE}: fleets must be a list`);
  if (raw.deployment !== undefined && (typeof raw.deployment !== 'string' || raw.deployment === ''))
    throw new Error(`${HANDLER_CONFIG_FILE}: deployment must be a non-empty string when present`);
  if (raw.registryPath !== undefined && (typeof raw.registryPath !== 'string' || !/^\/.+\/$/.test(raw.registryPath)))
    throw new Error(`${HANDLER_CONFIG_FILE}: registryPath must be an SSM path starting and ending with /`);
  raw.fleets.forEach((fleet, i) => {
    for (const key of ['name', 'autoScalingGroupName', 'tokenSecretName'] as const) {
      if (typeof fleet?.[key] !== 'string' || fleet[key] === '')
        throw new Error(`${HANDLER_CONFIG_FILE}: fleets[${i}].${key} must be a non-empty string`);
    }
  });
  return raw as HandlerConfig;
}

/**
 * Looks a fleet up by its Auto Scaling group name: a listed fleet, or in a named deployment any
 * group carrying its prefix, with the fleet's default token secret name (the same naming rule the
 * deployment's IAM grants are written for).
 */
export function fleetByGroup(config: Pick<HandlerConfig, 'fleets' | 'deployment'>, groupName: string | undefined): FleetTarget | undefined {
  if (groupName === undefined) return undefined;
  const listed = config.fleets.find((f) => f.autoScalingGroupName === groupName);
  if (listed || config.deployment === undefined) return listed;
  const name = fleetNameOfGroup(groupName, config.deployment);
  return name === undefined
    ? undefined
    : { name, autoScalingGroupName: groupName, tokenSecretName: defaultRunnerTokenSecretName(name, config.deployment) };
}
