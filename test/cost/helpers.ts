/**
 * Builders for cost tests: a validated config from a few fleet fields, so tests go through
 * the same schema, defaults and capacity profile the stacks use.
 */
import { parseFleetConfig, type FleetConfig, type FleetSpec } from '../../lib/config';

/** One fleet's fields; name, computeType and instanceTypes default to the seed's fleet. */
export type FleetInput = Record<string, unknown>;

export function configWith(...fleets: FleetInput[]): FleetConfig {
  return parseFleetConfig({
    gitlab: { url: 'https://gitlab.example.com' },
    fleets: fleets.map((fleet, i) => ({
      name: `fleet-${i}`,
      computeType: 'spot',
      instanceTypes: ['m6g.large'],
      concurrency: 10,
      capacity: { min: 0, max: 10, desired: 1 },
      ...fleet,
    })),
  });
}

export function fleetWith(fleet: FleetInput): FleetSpec {
  return configWith(fleet).fleets[0];
}

/** A schedule of one window with no jitter, so hours are exact. */
export function schedule(days: string, start: string, end: string, timeZone = 'Europe/Berlin'): Record<string, unknown> {
  return { timeZone, maxJitterMinutes: 0, windows: [{ days, start, end }] };
}
