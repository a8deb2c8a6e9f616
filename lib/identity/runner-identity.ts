/**
 * How an EC2 instance and its GitLab runner manager find each other. Pure, shared by the
 * instance scripts' renderer, the constructs, the Lambdas and the CLI.
 *
 * The instance writes `.runner_system_id` before registering, derived from its instance id,
 * so GitLab's runner manager for an instance can be named from the instance id alone: the
 * safety-net Lambda can deregister a machine that died before its agent ran, and the orphan
 * reaper can tell which managers have no instance behind them. Nothing is persisted across
 * instances (seed 001): a new instance is a new manager.
 */

import { fleetAutoScalingGroupName } from './deployment';

/** Tag keys on fleet instances, volumes and groups. */
export const FLEET_TAGS = {
  /** `spot` or `on-demand`, as the GitLab blog's 97% example names it. */
  computeType: 'computetype',
  /** The config's `deployment` name, on fleets of a named deployment (see ./deployment.ts). */
  deployment: 'gitlab-runner-fleet:deployment',
  fleet: 'gitlab-runner-fleet:fleet',
  gitlabUrl: 'gitlab-runner-fleet:gitlab-url',
  /** Secrets Manager name of the fleet's glrt- token (a name, never the value), for the safety-net Lambda. */
  tokenSecret: 'gitlab-runner-fleet:token-secret',
} as const;

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** True for an EC2 instance id (`i-` and 8 or 17 hex digits). */
export function isInstanceId(value: string): boolean {
  return INSTANCE_ID.test(value);
}

/**
 * The GitLab runner `system_id` an instance registers with: `s_` and the last 12 hex digits
 * of the instance id (GitLab Runner's own ids are a prefix and 12 characters). The same rule
 * is implemented in the instance bootstrap script; a test keeps the two in step.
 */
export function systemIdForInstance(instanceId: string): string {
  const match = INSTANCE_ID.exec(instanceId);
  if (!match) throw new Error(`"${instanceId}" is not an EC2 instance id`);
  return `s_${match[1].padStart(12, '0').slice(-12)}`;
}

/** The runner name in config.toml and logs: fleet, instance, account and region. */
export function runnerName(fleetName: string, instanceId: string, account: string, region: string): string {
  return `${fleetName}-${instanceId}-${account}-${region}`;
}

/** Lifecycle hook names, fixed so the instance agent can complete them by name. */
export const LIFECYCLE_HOOKS = {
  /** Completed by the instance once its runner registered and started (CONTINUE), or ABANDON on failure. */
  launch: 'gitlab-runner-fleet-registered',
  /** Completed by the drain agent after jobs finished and the runner manager was deleted. */
  terminate: 'gitlab-runner-fleet-drained',
} as const;

/**
 * The Auto Scaling group name of a fleet: deterministic, so IAM and EventBridge can be scoped to
 * it. With a deployment name it starts with that deployment's prefix (see ./deployment.ts).
 */
export function autoScalingGroupName(fleetName: string, deployment?: string): string {
  return fleetAutoScalingGroupName(fleetName, deployment);
}
