/**
 * Which deployment a fleet belongs to, and the names that follow from it. Pure: shared by the
 * config, the constructs, the Lambdas and the CLI.
 *
 * A deployment is one `fleet.config.yaml` deployed into an account and region. With a
 * `deployment` name, every fleet's Auto Scaling group and default token secret carry a prefix
 * that belongs to this deployment alone, so the shared stack matches "this deployment's
 * fleets" by prefix: its IAM grants, event rules and queue policy stay the same size at 1 or
 * 1,000 fleets, and they never reach another deployment's groups or secrets. A fleet launched
 * later (for example from a Service Catalog product) that carries the same deployment name is
 * matched too.
 *
 * Without a name (every config written before this rule), names stay as they always were and
 * the shared stack lists each fleet's group and secret; that is only possible up to
 * {@link MAX_UNSCOPED_FLEETS} fleets within IAM's policy size quotas.
 */

/** Most fleets a config without a `deployment` name may hold: their ARNs are listed one by one. */
export const MAX_UNSCOPED_FLEETS = 30;

/** Length bounds of a deployment name. */
export const DEPLOYMENT_NAME_LENGTH = { min: 2, max: 16 } as const;

/**
 * Lower-case letters and digits in single-hyphen-separated words, starting with a letter.
 * No `.`, `/` or `--`: those separate the deployment from the fleet in the names below, so one
 * deployment's prefix can never be the start of another deployment's names.
 */
const DEPLOYMENT_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Why a deployment name is invalid, or undefined when it is valid. */
export function deploymentNameProblem(name: string): string | undefined {
  if (name.length < DEPLOYMENT_NAME_LENGTH.min || name.length > DEPLOYMENT_NAME_LENGTH.max || !DEPLOYMENT_NAME.test(name)) {
    return `"${name}" must be ${DEPLOYMENT_NAME_LENGTH.min}-${DEPLOYMENT_NAME_LENGTH.max} characters of a-z and 0-9 in words joined by single hyphens, starting with a letter (e.g. ci, team-a)`;
  }
  return undefined;
}

const NAME_ROOT = 'gitlab-runner-fleet';

/**
 * The start of every Auto Scaling group name of a named deployment. Fleet names hold no `.`,
 * so a prefix match selects exactly this deployment's groups.
 */
export function autoScalingGroupNamePrefix(deployment: string): string {
  return `${NAME_ROOT}.${deployment}.`;
}

/** The Auto Scaling group name of a fleet: deterministic, so IAM and EventBridge can be scoped to it. */
export function fleetAutoScalingGroupName(fleetName: string, deployment?: string): string {
  return deployment === undefined ? `${NAME_ROOT}-${fleetName}` : `${autoScalingGroupNamePrefix(deployment)}${fleetName}`;
}

/** The fleet name inside a group name of a named deployment, or undefined for any other group. */
export function fleetNameOfGroup(groupName: string, deployment: string): string | undefined {
  const prefix = autoScalingGroupNamePrefix(deployment);
  if (!groupName.startsWith(prefix)) return undefined;
  const fleet = groupName.slice(prefix.length);
  return /^[a-z][a-z0-9-]*[a-z0-9]$/.test(fleet) ? fleet : undefined;
}

/** The start of every default token secret name of a named deployment. */
export function runnerTokenSecretPrefix(deployment: string): string {
  return `${NAME_ROOT}/${deployment}/`;
}

/** Default Secrets Manager name for a fleet's glrt- runner authentication token. */
export function defaultRunnerTokenSecretName(fleetName: string, deployment?: string): string {
  return deployment === undefined
    ? `${NAME_ROOT}/${fleetName}/runner-token`
    : `${runnerTokenSecretPrefix(deployment)}${fleetName}/runner-token`;
}

const ON_DEMAND_SUFFIX = '-ondemand';

/**
 * Default Secrets Manager name for the token of a mixed fleet's second, on-demand runner (a fleet
 * that owns its runners): the fleet's default token secret name with `-ondemand`, so it carries
 * the deployment's prefix like the first one and is granted by the same prefix.
 */
export function defaultOnDemandRunnerTokenSecretName(fleetName: string, deployment?: string): string {
  return `${defaultRunnerTokenSecretName(fleetName, deployment)}${ON_DEMAND_SUFFIX}`;
}

/**
 * The IAM name pattern, under this named deployment's prefix, that matches `secretName` and every
 * other fleet's secret of the same kind, when `secretName` is a default token secret name of this
 * deployment: the prefix, a wildcard for the fleet name, then `/runner-token` (or
 * `/runner-token-ondemand` for a second runner's). Undefined for any other name.
 */
export function deploymentTokenSecretPattern(secretName: string, deployment: string): string | undefined {
  const prefix = runnerTokenSecretPrefix(deployment);
  const match = /^[a-z][a-z0-9-]*[a-z0-9]\/(runner-token(?:-ondemand)?)$/.exec(secretName.slice(prefix.length));
  return secretName.startsWith(prefix) && match ? `${prefix}*/${match[1]}` : undefined;
}

/** True when `secretName` is a default token secret name (either runner's) of some fleet of this named deployment. */
export function isDeploymentRunnerTokenSecret(secretName: string, deployment: string): boolean {
  return deploymentTokenSecretPattern(secretName, deployment) !== undefined;
}

/** CloudFormation stack of the resources every fleet of a deployment shares. */
export function sharedStackName(deployment?: string): string {
  return deployment === undefined ? `${NAME_ROOT}-shared` : `${NAME_ROOT}-${deployment}--shared`;
}

/** CloudFormation stack of one fleet. */
export function fleetStackName(fleetName: string, deployment?: string): string {
  return deployment === undefined ? `${NAME_ROOT}-${fleetName}` : `${NAME_ROOT}-${deployment}--${fleetName}`;
}

/**
 * The deployment's schedule catch-up function (in the shared stack): named, so each fleet stack
 * reaches it by an ARN it builds itself rather than by a CloudFormation export, which would pin
 * the shared stack whenever the last scheduled fleet goes away. At most 55 characters.
 */
export function scheduleCatchUpFunctionName(deployment?: string): string {
  return deployment === undefined ? `${NAME_ROOT}-schedule-catch-up` : `${NAME_ROOT}-${deployment}--schedule-catch-up`;
}
