/**
 * The machine-readable cost report (`runner-fleet cost --format json`), in exactly the shape
 * issue 5 fixes for scripts and the Service Catalog product: numbers, never strings.
 * Money is rounded to micro-dollars (6 decimals) to drop floating-point noise; percentages to
 * 2 decimals.
 */
import type { CostReport, FleetCostEstimate } from './estimate';

export interface CostJsonFleet {
  readonly name: string;
  readonly uptimeHoursPerWeek: number;
  readonly weeklyCost: number;
  readonly baselineWeeklyCost: number;
  readonly savingsPercent: number;
  readonly runnerMinutesPerHour: number;
  readonly costPer1000JobMinutes: number;
  readonly levers: { readonly schedule: number; readonly spot: number; readonly graviton: number };
}

export interface CostJson {
  readonly priceSource: { readonly kind: 'snapshot' | 'live'; readonly date: string; readonly region: string };
  readonly fleets: readonly CostJsonFleet[];
  readonly total: {
    readonly weeklyCost: number;
    readonly baselineWeeklyCost: number;
    readonly yearlyCost: number;
    readonly baselineYearlyCost: number;
    readonly savingsPercent: number;
  };
}

/** Rounds money to 6 decimals. */
export function money(value: number): number {
  return round(value, 6);
}

/** Rounds a percentage to 2 decimals. */
export function percent(value: number): number {
  return round(value, 2);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  return Object.is(rounded, -0) ? 0 : rounded;
}

function fleetJson(fleet: FleetCostEstimate): CostJsonFleet {
  return {
    name: fleet.name,
    uptimeHoursPerWeek: round(fleet.uptimeHoursPerWeek, 4),
    weeklyCost: money(fleet.weeklyCost),
    baselineWeeklyCost: money(fleet.baselineWeeklyCost),
    savingsPercent: percent(fleet.savingsPercent),
    runnerMinutesPerHour: fleet.runnerMinutesPerHour,
    // A fleet that offers no minutes has no cost per minute; 0 keeps the field numeric.
    costPer1000JobMinutes: money(fleet.costPer1000JobMinutes ?? 0),
    levers: { schedule: money(fleet.levers.schedule), spot: money(fleet.levers.spot), graviton: money(fleet.levers.graviton) },
  };
}

export function toCostJson(report: CostReport): CostJson {
  return {
    priceSource: { kind: report.priceSource.kind, date: report.priceSource.date, region: report.priceSource.region },
    fleets: report.fleets.map(fleetJson),
    total: {
      weeklyCost: money(report.total.weeklyCost),
      baselineWeeklyCost: money(report.total.baselineWeeklyCost),
      yearlyCost: money(report.total.yearlyCost),
      baselineYearlyCost: money(report.total.baselineYearlyCost),
      savingsPercent: percent(report.total.savingsPercent),
    },
  };
}
