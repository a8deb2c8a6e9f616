/**
 * A fleet as token rotation sees it, built from the configuration: by the CLI at run time and by
 * the scheduled rotation's construct at synth (written into its Lambda's configuration), so both
 * create the replacement runner exactly like the deployment created the first one.
 */
import { fleetRunnerObjects, type FleetSpec } from '../config/fleet-config';
import { managedRunnerSettings, RUNNER_TYPES } from '../identity/managed-runner-settings';
import { autoScalingGroupName } from '../identity/runner-identity';
import type { RotationTarget } from './token-rotation';

/** The rotation target of a fleet that owns its runners; throws for one that does not. */
export function rotationTarget(fleet: FleetSpec): RotationTarget {
  const managed = fleet.managedRunner;
  if (!managed) throw new Error(`fleet ${fleet.name} does not own its GitLab runner (no gitlabRunner config)`);
  return {
    fleetName: fleet.name,
    autoScalingGroupName: autoScalingGroupName(fleet.name, fleet.deployment),
    minHealthyPercentage: fleet.minHealthyPercentage,
    runnerType: RUNNER_TYPES[managed.scope],
    ...(managed.namespace === undefined ? {} : { namespace: managed.namespace }),
    accessTokenSecretName: managed.accessTokenSecretName,
    runners: fleetRunnerObjects(fleet).map((object) => ({
      computeType: object.computeType,
      tokenSecretName: object.tokenSecretName,
      // Used only when the old runner has no description: the deployment's names the account and region.
      settings: managedRunnerSettings(fleet, object, `gitlab-runner-fleet ${fleet.name} (${object.computeType})`),
    })),
  };
}
