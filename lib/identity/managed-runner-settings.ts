/**
 * The settings of a fleet-created GitLab runner, one rule for the custom resource (at synth) and
 * `runner-fleet rotate-token` (which creates the replacement runner), so a rotated runner is
 * configured exactly like the one the deployment made.
 */
import type { FleetRunnerObject, FleetSpec, ManagedRunnerSpec } from '../config/fleet-config';
import type { RunnerSettings, RunnerType } from '../gitlab/types';

/** GitLab refuses a runner maximum_timeout under 10 minutes. */
export const MIN_RUNNER_MAXIMUM_TIMEOUT_SECONDS = 600;

export const RUNNER_TYPES: Readonly<Record<ManagedRunnerSpec['scope'], RunnerType>> = {
  instance: 'instance_type',
  group: 'group_type',
  project: 'project_type',
};

/** The runner's maximum job timeout: the fleet's, which also drives the drain time, at least GitLab's minimum. */
export function runnerMaximumTimeoutSeconds(maxJobTimeoutMinutes: number): number {
  return Math.max(MIN_RUNNER_MAXIMUM_TIMEOUT_SECONDS, maxJobTimeoutMinutes * 60);
}

/** The runner description GitLab shows: fleet, compute type, account and region (seed 003: map runners to AWS and back). */
export function runnerDescription(fleetName: string, computeType: string, account: string, region: string): string {
  return `gitlab-runner-fleet ${fleetName} (${computeType}) in ${account}/${region}`;
}

/** Create/update settings of one runner object of a fleet with `managedRunner`. */
export function managedRunnerSettings(fleet: FleetSpec, runner: FleetRunnerObject, description: string): RunnerSettings {
  const managed = fleet.managedRunner;
  if (!managed) throw new Error(`fleet ${fleet.name} does not own its GitLab runner (no gitlabRunner config)`);
  return {
    description,
    tag_list: [...runner.tags],
    run_untagged: managed.runUntagged,
    locked: managed.locked,
    access_level: managed.accessLevel,
    paused: managed.paused,
    maximum_timeout: runnerMaximumTimeoutSeconds(fleet.maxJobTimeoutMinutes),
  };
}
