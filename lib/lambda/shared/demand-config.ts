/**
 * What the demand Lambdas (webhook and scaler) know about the demand-scaled fleets, carried
 * in handler-config.json under `demand`. Pure: no CDK, no AWS SDK.
 */
import type { FleetSpec, PollSettings } from '../../config/fleet-config';
import { autoScalingGroupName } from '../../identity/runner-identity';
import type { ScalingSettings } from '../../scaling/decide';
import type { EnvelopeFleet } from '../../scaling/envelope';
import { envelopeFleetOf, scalingSettingsOf } from '../../scaling/fleet';

export interface DemandFleetTarget {
  readonly name: string;
  readonly autoScalingGroupName: string;
  /** Every tag the fleet's runners carry; a job is the fleet's when all its tags are among them. */
  readonly runnerTags: readonly string[];
  /** IANA zone of the schedule; UTC for an unscheduled fleet. */
  readonly timeZone: string;
  readonly envelope: EnvelopeFleet;
  readonly settings: ScalingSettings;
}

export interface DemandHandlerConfig {
  /** In config order: a job several fleets could take counts for the first. */
  readonly fleets: readonly DemandFleetTarget[];
  /** Secret holding the X-Gitlab-Token the webhook expects. */
  readonly webhookSecretName: string;
  /** The poll fallback, when configured. */
  readonly poll?: PollSettings;
}

/** The demand-scaled fleets of a config as the Lambdas see them. */
export function demandHandlerConfig(
  fleets: readonly FleetSpec[],
  webhookSecretName: string,
  poll?: DemandHandlerConfig['poll'],
): DemandHandlerConfig {
  return {
    webhookSecretName,
    ...(poll ? { poll } : {}),
    fleets: fleets
      .filter((fleet) => fleet.demandScaling !== undefined)
      .map((fleet) => ({
        name: fleet.name,
        autoScalingGroupName: autoScalingGroupName(fleet.name, fleet.deployment),
        runnerTags: fleet.runnerTags,
        timeZone: fleet.schedule?.timeZone ?? 'UTC',
        envelope: envelopeFleetOf(fleet),
        settings: scalingSettingsOf(fleet),
      })),
  };
}

/** The fleet that takes a job with these tags: the first whose runners carry all of them. Untagged jobs are no fleet's. */
export function fleetForJobTags(config: Pick<DemandHandlerConfig, 'fleets'>, jobTags: readonly string[]): DemandFleetTarget | undefined {
  if (jobTags.length === 0) return undefined;
  return config.fleets.find((fleet) => jobTags.every((tag) => fleet.runnerTags.includes(tag)));
}
