/**
 * Demand scaling inputs from a fleet's resolved config: the envelope and the settings the
 * decision takes. Pure.
 */
import { fleetCapacityProfile, type FleetSpec } from '../config/fleet-config';
import { MINUTES_PER_DAY, MINUTES_PER_WEEK } from '../config/schedule';
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

const WEEKDAY_SHORT: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** The local minute of the week (0 = Monday 00:00) of an instant in an IANA time zone. */
export function localMinuteOfWeek(timeZone: string, epochMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epochMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAY_SHORT[get('weekday')] ?? 0;
  return (day * MINUTES_PER_DAY + Number(get('hour')) * 60 + Number(get('minute'))) % MINUTES_PER_WEEK;
}
