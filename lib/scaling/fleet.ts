/**
 * Demand scaling inputs from a fleet's resolved config: the envelope and the settings the
 * decision takes. Pure.
 */
import { fleetCapacityProfile, type FleetSpec } from '../config/fleet-config';
import type { ScalingSettings } from './decide';
import type { EnvelopeFleet } from './envelope';

/** Demand defaults for a fleet that has demand scaling off (the cost CLI prices it anyway). */
const OFF = { targetBusyPercent: 70, warmInstances: 1, scaleInIdleMinutes: 10 };

export function envelopeFleetOf(fleet: FleetSpec): EnvelopeFleet {
  const demand = fleet.demandScaling;
  return {
    capacity: { min: fleet.capacity.min, max: fleet.capacity.max },
    profile: fleetCapacityProfile(fleet),
    scheduled: fleet.schedule !== undefined,
    scaleFromZero: demand?.scaleFromZero ?? fleet.computeType === 'spot',
    warmInstances: demand?.warmInstances ?? OFF.warmInstances,
  };
}

export function scalingSettingsOf(fleet: FleetSpec): ScalingSettings {
  const demand = fleet.demandScaling ?? OFF;
  return {
    concurrency: fleet.concurrency,
    targetBusyRatio: demand.targetBusyPercent / 100,
    scaleInIdleSeconds: demand.scaleInIdleMinutes * 60,
  };
}

/** Moved to the schedule model (lib/config/schedule.ts), which the schedule catch-up shares. */
export { localMinuteOfWeek } from '../config/schedule';
