/**
 * The registry of fleets launched from the Service Catalog: one SSM parameter per fleet under
 * {@link FLEET_REGISTRY_PATH}, written by the fleet product's stack (through the launch role) and
 * read by the account's runner platform (safety net, orphan reaper). Pure; shared by the
 * constructs that write entries and the Lambdas that read them.
 *
 * Trust: only the catalog launch role is granted writes under the path; instances and tags
 * cannot change an entry, so the GitLab URL a Lambda sends a token to never comes from them.
 */
import { autoScalingGroupName } from './runner-identity';

/** SSM path of the registry; entries are `<path><fleet name>`. */
export const FLEET_REGISTRY_PATH = '/gitlab-runner-fleet/registry/';

/** SSM parameters the runner platform publishes for fleet products (network defaults). */
export const PLATFORM_PARAMETERS = {
  vpcId: '/gitlab-runner-fleet/platform/vpc-id',
  subnetIds: '/gitlab-runner-fleet/platform/subnet-ids',
} as const;

/** Name prefix every fleet group carries; the platform's EventBridge rules and IAM match on it. */
export const FLEET_GROUP_NAME_PREFIX = autoScalingGroupName('');

/**
 * Prefix every registry-known fleet's token secret name must start with, so the platform can read
 * only those. It is the catalog's own: the `.` can be in neither a fleet name nor a deployment
 * name, so no default secret of a `cdk deploy` fleet (`gitlab-runner-fleet/<fleet>/...`,
 * `gitlab-runner-fleet/<deployment>/...`) starts with it, and neither do the access, API and
 * webhook tokens beside them: the platform's grant on this prefix reaches the catalog fleets'
 * runner tokens only, not every `gitlab-runner-fleet/` secret of the account.
 */
export const REGISTERED_TOKEN_SECRET_PREFIX = 'gitlab-runner-fleet/catalog.fleets/';

/** One registry entry, as stored (JSON) in the parameter's value. */
export interface FleetRegistryEntry {
  readonly name: string;
  readonly autoScalingGroupName: string;
  readonly tokenSecretName: string;
  readonly gitlabUrl: string;
}

/** The parameter name of a fleet's entry. */
export function fleetRegistryParameterName(fleetName: string): string {
  return `${FLEET_REGISTRY_PATH}${fleetName}`;
}

/**
 * Reads one entry; returns a reason instead when it is malformed or breaks the naming rules
 * (group named after the fleet, token secret under the fleet prefix), so a bad entry is
 * reported and skipped, never trusted.
 */
export function parseFleetRegistryEntry(parameterName: string, value: string): FleetRegistryEntry | string {
  let raw: Partial<Record<keyof FleetRegistryEntry, unknown>>;
  try {
    raw = JSON.parse(value) as typeof raw;
  } catch {
    return `${parameterName}: value is not JSON`;
  }
  for (const key of ['name', 'autoScalingGroupName', 'tokenSecretName', 'gitlabUrl'] as const) {
    if (typeof raw?.[key] !== 'string' || raw[key] === '') return `${parameterName}: ${key} must be a non-empty string`;
  }
  const entry = raw as FleetRegistryEntry;
  if (parameterName !== fleetRegistryParameterName(entry.name))
    return `${parameterName}: name ${entry.name} does not match the parameter name`;
  if (entry.autoScalingGroupName !== autoScalingGroupName(entry.name))
    return `${parameterName}: autoScalingGroupName must be ${autoScalingGroupName(entry.name)}`;
  if (!entry.tokenSecretName.startsWith(REGISTERED_TOKEN_SECRET_PREFIX))
    return `${parameterName}: tokenSecretName must start with ${REGISTERED_TOKEN_SECRET_PREFIX}`;
  // Only the URL's equality with the platform's own (https, from its config) makes an entry count; see fleet-source.ts.
  if (!URL.canParse(entry.gitlabUrl)) return `${parameterName}: gitlabUrl must be a URL`;
  return entry;
}
