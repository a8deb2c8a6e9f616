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
import type { FleetSpec, GitLabSettings } from '../../config/fleet-config';

/** File name of the handler configuration inside the Lambda asset. */
export const HANDLER_CONFIG_FILE = 'handler-config.json';

/** File name of the private CA bundle inside the Lambda asset, when the GitLab uses one. */
export const CA_BUNDLE_FILE = 'gitlab-ca.pem';

export interface FleetTarget {
  readonly name: string;
  readonly autoScalingGroupName: string;
  /** Secrets Manager name of the fleet's glrt- runner token. */
  readonly tokenSecretName: string;
}

export interface HandlerConfig {
  readonly gitlabUrl: string;
  readonly fleets: readonly FleetTarget[];
  /** Orphan reaper only: secret holding a token that can read the fleets' runners. */
  readonly apiTokenSecretName?: string;
  /** Orphan reaper only: managers younger than this are never removed. */
  readonly graceMinutes?: number;
}

/** The fleets as the Lambdas see them. */
export function fleetTargets(fleets: readonly FleetSpec[]): FleetTarget[] {
  return fleets.map((fleet) => ({
    name: fleet.name,
    autoScalingGroupName: autoScalingGroupName(fleet.name),
    tokenSecretName: fleet.runnerTokenSecretName,
  }));
}

/** Builds the configuration file content for a set of fleets. */
export function handlerConfig(
  fleets: readonly FleetSpec[],
  gitlab: GitLabSettings,
  extra: Pick<HandlerConfig, 'apiTokenSecretName' | 'graceMinutes'> = {},
): HandlerConfig {
  return { gitlabUrl: gitlab.url, fleets: fleetTargets(fleets), ...extra };
}

/** Validates a configuration read from disk; throws naming the field at fault. */
export function parseHandlerConfig(text: string): HandlerConfig {
  const raw = JSON.parse(text) as Partial<HandlerConfig>;
  if (typeof raw.gitlabUrl !== 'string' || !URL.canParse(raw.gitlabUrl)) throw new Error(`${HANDLER_CONFIG_FILE}: gitlabUrl must be a URL`);
  const problem = gitlabUrlProblem(raw.gitlabUrl, true);
  if (problem) throw new Error(`${HANDLER_CONFIG_FILE}: gitlabUrl ${problem}`);
  if (!Array.isArray(raw.fleets)) throw new Error(`${HANDLER_CONFIG_FILE}: fleets must be a list`);
  raw.fleets.forEach((fleet, i) => {
    for (const key of ['name', 'autoScalingGroupName', 'tokenSecretName'] as const) {
      if (typeof fleet?.[key] !== 'string' || fleet[key] === '')
        throw new Error(`${HANDLER_CONFIG_FILE}: fleets[${i}].${key} must be a non-empty string`);
    }
  });
  return raw as HandlerConfig;
}

/** Looks a fleet up by its Auto Scaling group name. */
export function fleetByGroup(config: Pick<HandlerConfig, 'fleets'>, groupName: string | undefined): FleetTarget | undefined {
  return groupName === undefined ? undefined : config.fleets.find((f) => f.autoScalingGroupName === groupName);
}
