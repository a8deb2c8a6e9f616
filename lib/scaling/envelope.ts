/**
 * The schedule as an envelope for demand scaling: at each minute of the local week, the least
 * and the most instances the scaler may ask for. Built on the weekly schedule model
 * (lib/config/schedule.ts), so the envelope follows exactly the capacity the scheduled actions
 * deploy, jitter included. Pure: no CDK, no AWS SDK.
 */
import { desiredAt, type CapacitySegment } from '../config/schedule';

/** What demand scaling needs to know about a fleet's capacity and schedule. */
export interface EnvelopeFleet {
  readonly capacity: { readonly min: number; readonly max: number };
  /** The fleet's scheduled capacity over the local week (`fleetCapacityProfile`). */
  readonly profile: readonly CapacitySegment[];
  /** False for a fleet without a schedule: it is always in working hours. */
  readonly scheduled: boolean;
  /** Outside the windows, a pending job may still start instances (up to capacity.max). */
  readonly scaleFromZero: boolean;
  /** Instances kept warm in working hours even when idle (capped by the window's own capacity). */
  readonly warmInstances: number;
}

/** The bounds of desired capacity at one moment. */
export interface ScalingEnvelope {
  /** Desired capacity never goes below this. */
  readonly min: number;
  /** Desired capacity never goes above this. */
  readonly max: number;
  /** Inside an uptime window (or unscheduled): the busy-slot target applies, headroom is kept. */
  readonly working: boolean;
}

/**
 * The envelope at a local minute of the week. In a window: from the warm floor up to
 * capacity.max. Outside: capacity.min, or up to capacity.max when `scaleFromZero` is set, so a
 * release at 20:00 finds runners without paying for idle ones all evening.
 */
export function demandEnvelope(fleet: EnvelopeFleet, minuteOfWeek: number): ScalingEnvelope {
  const scheduledCapacity = desiredAt(fleet.profile, minuteOfWeek);
  const working = !fleet.scheduled || scheduledCapacity > fleet.capacity.min;
  if (working) {
    const floor = Math.max(fleet.capacity.min, Math.min(scheduledCapacity, fleet.warmInstances));
    return { min: floor, max: fleet.capacity.max, working };
  }
  return { min: fleet.capacity.min, max: fleet.scaleFromZero ? fleet.capacity.max : fleet.capacity.min, working };
}
