/**
 * Expected demand for the cost estimate: jobs per hour for each weekday hour and the average job
 * length, turned into the capacity demand scaling would run, by simulating the week with the same
 * scaling function the scaler Lambda uses (lib/scaling). Pure.
 */
import { fleetCapacityProfile, type FleetSpec } from '../config/fleet-config';
import { MINUTES_PER_WEEK, WEEKDAYS, type CapacitySegment, type Weekday } from '../config/schedule';
import { envelopeFleetOf, scalingSettingsOf } from '../scaling/fleet';
import { simulateFleet, type SimulatedJob } from '../scaling/simulate';
import { CostError } from './errors';

/** Launch to registered, for the simulation (a Graviton instance with the bootstrap: about two minutes). */
export const SIMULATED_BOOT_SECONDS = 120;

export interface ExpectedDemand {
  /** Average job length in minutes. */
  readonly jobMinutes: number;
  /** Jobs started per hour, 24 values per weekday (local time of each fleet's schedule). */
  readonly jobsPerHour: Readonly<Record<Weekday, readonly number[]>>;
}

/**
 * Reads `{ jobMinutes, jobsPerHour }`, where jobsPerHour maps days (mon..sun, or weekdays,
 * weekends, daily) to one number for every hour or a list of 24. Throws a CostError naming
 * every problem by path.
 */
export function parseExpectedDemand(raw: unknown): ExpectedDemand {
  const problems: string[] = [];
  const record = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const jobMinutes = record.jobMinutes;
  if (typeof jobMinutes !== 'number' || !(jobMinutes > 0 && jobMinutes <= 2880))
    problems.push('jobMinutes must be a number of minutes > 0 and <= 2880');
  const perHour: Record<Weekday, number[]> = Object.fromEntries(WEEKDAYS.map((d) => [d, new Array<number>(24).fill(0)])) as Record<
    Weekday,
    number[]
  >;
  const groups: Record<string, readonly Weekday[]> = {
    daily: WEEKDAYS,
    weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
    weekends: ['sat', 'sun'],
  };
  const given = record.jobsPerHour;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    problems.push('jobsPerHour must map days (mon..sun, weekdays, weekends, daily) to a number or 24 numbers');
  else {
    for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
      const days = groups[key] ?? (WEEKDAYS.includes(key as Weekday) ? [key as Weekday] : undefined);
      if (!days) {
        problems.push(`jobsPerHour.${key} is not a day; allowed: ${[...WEEKDAYS, ...Object.keys(groups)].join(', ')}`);
        continue;
      }
      const hours = typeof value === 'number' ? new Array<number>(24).fill(value) : value;
      if (!Array.isArray(hours) || hours.length !== 24 || hours.some((h) => typeof h !== 'number' || !(h >= 0 && h <= 10_000))) {
        problems.push(`jobsPerHour.${key} must be a number or a list of 24 numbers from 0 to 10000 (jobs per hour)`);
        continue;
      }
      for (const day of days) perHour[day] = hours as number[];
    }
  }
  if (problems.length > 0) throw new CostError(`expected demand: ${problems.join('; ')}`);
  return { jobMinutes: jobMinutes as number, jobsPerHour: perHour };
}

/** The week's jobs: each hour's jobs spread evenly across it, from Monday 00:00 local time. */
export function demandJobs(demand: ExpectedDemand): SimulatedJob[] {
  const jobs: SimulatedJob[] = [];
  WEEKDAYS.forEach((day, dayIndex) => {
    demand.jobsPerHour[day].forEach((count, hour) => {
      const n = Math.round(count);
      for (let i = 0; i < n; i++) {
        jobs.push({
          arrival: Math.floor((dayIndex * 24 + hour) * 3600 + ((i + 0.5) * 3600) / n),
          durationSeconds: Math.round(demand.jobMinutes * 60),
        });
      }
    });
  });
  return jobs;
}

export interface DemandProfile {
  readonly profile: CapacitySegment[];
  /** 95th percentile of the simulated wait for a slot, in seconds. */
  readonly p95WaitSeconds: number;
  /** Jobs that found no slot within the week (the fleet's max is too small for the demand). */
  readonly jobsNeverStarted: number;
}

/** The instances demand scaling would pay for, minute by minute over the week. */
export function demandProfile(fleet: FleetSpec, demand: ExpectedDemand): DemandProfile {
  const result = simulateFleet({
    fleet: envelopeFleetOf(fleet),
    settings: scalingSettingsOf(fleet),
    startMinuteOfWeek: 0,
    durationSeconds: MINUTES_PER_WEEK * 60 - 60,
    stepSeconds: 60,
    bootSeconds: SIMULATED_BOOT_SECONDS,
    jobs: demandJobs(demand),
    initialInstances: fleetCapacityProfile(fleet)[0]?.desired ?? 0,
  });
  const profile: CapacitySegment[] = [];
  for (const sample of result.samples) {
    const minute = Math.floor(sample.second / 60);
    const last = profile[profile.length - 1];
    if (last && last.desired === sample.billedInstances) profile[profile.length - 1] = { ...last, toMinute: minute + 1 };
    else profile.push({ fromMinute: minute, toMinute: minute + 1, desired: sample.billedInstances });
  }
  const end = profile[profile.length - 1];
  if (end && end.toMinute < MINUTES_PER_WEEK) profile[profile.length - 1] = { ...end, toMinute: MINUTES_PER_WEEK };
  const waits = result.waitSeconds.filter((w): w is number => w !== undefined).sort((a, b) => a - b);
  return {
    profile,
    p95WaitSeconds: waits.length === 0 ? 0 : waits[Math.min(waits.length - 1, Math.floor(waits.length * 0.95))],
    jobsNeverStarted: result.waitSeconds.filter((w) => w === undefined).length,
  };
}
