/**
 * The machine-readable cost report (`runner-fleet cost --format json`), in exactly the shape
 * issue 5 fixes for scripts and the Service Catalog product: numbers, never strings.
 * Money is rounded to micro-dollars (6 decimals) to drop floating-point noise; percentages to
 * 2 decimals. Fields after issue 5's come after them, so the rest of the table is here too
 * (monthly figures, compute type, instance-hours, the prices used, break-even utilization) and
 * no tool has to parse the text.
 */
import type { CostReport, CostTotals, FleetCostEstimate, HostedComparison, PricedType } from './estimate';

/** A price the estimate used: instance type, USD per hour and where the figure comes from. */
export interface CostJsonPrice {
  readonly instanceType: string;
  readonly usdPerHour: number;
  readonly provenance: string;
}

/** Utilization of the runner-minutes at which a hosted CI offering costs the same; null when never. */
export interface CostJsonBreakEven {
  readonly hosted: string;
  readonly name: string;
  readonly usdPer1000Minutes: number;
  readonly utilizationPercent: number | null;
}

export interface CostJsonFleet {
  readonly name: string;
  readonly uptimeHoursPerWeek: number;
  readonly weeklyCost: number;
  readonly baselineWeeklyCost: number;
  readonly savingsPercent: number;
  readonly runnerMinutesPerHour: number;
  readonly costPer1000JobMinutes: number;
  readonly levers: { readonly schedule: number; readonly spot: number; readonly graviton: number };
  readonly computeType: string;
  readonly architecture: string;
  readonly instanceTypes: readonly string[];
  readonly peakInstances: number;
  readonly instanceHoursPerWeek: number;
  readonly onDemandInstanceHoursPerWeek: number;
  readonly spotInstanceHoursPerWeek: number;
  readonly monthlyCost: number;
  readonly yearlyCost: number;
  readonly baselineMonthlyCost: number;
  readonly baselineYearlyCost: number;
  readonly weeklySavings: number;
  readonly prices: {
    readonly onDemand: CostJsonPrice | null;
    readonly spot: CostJsonPrice | null;
    readonly baselineOnDemand: CostJsonPrice;
  };
  readonly performanceFactor: number;
  readonly costPer1000TwoVcpuMinutes: number | null;
  readonly breakEven: readonly CostJsonBreakEven[];
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
    readonly monthlyCost: number;
    readonly baselineMonthlyCost: number;
    readonly weeklySavings: number;
    readonly instanceHoursPerWeek: number;
    readonly levers: { readonly schedule: number; readonly spot: number; readonly graviton: number };
    readonly costPer1000JobMinutes: number;
    readonly breakEven: readonly CostJsonBreakEven[];
  };
  readonly currency: 'USD';
  readonly week: string;
  readonly baselineInstanceType: string;
  readonly gravitonPerformanceFactor: number;
  readonly warnings: readonly string[];
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
    levers: leversJson(fleet),
    computeType: fleet.computeType,
    architecture: fleet.architecture,
    instanceTypes: fleet.instanceTypes,
    peakInstances: fleet.peakInstances,
    instanceHoursPerWeek: round(fleet.instanceHoursPerWeek, 4),
    onDemandInstanceHoursPerWeek: round(fleet.onDemandInstanceHoursPerWeek, 4),
    spotInstanceHoursPerWeek: round(fleet.spotInstanceHoursPerWeek, 4),
    monthlyCost: money(fleet.monthlyCost),
    yearlyCost: money(fleet.yearlyCost),
    baselineMonthlyCost: money(fleet.baselineMonthlyCost),
    baselineYearlyCost: money(fleet.baselineYearlyCost),
    weeklySavings: money(fleet.weeklySavings),
    prices: {
      onDemand: priceJson(fleet.onDemandPrice),
      spot: priceJson(fleet.spotPrice),
      baselineOnDemand: priceJson(fleet.baselineOnDemandPrice),
    },
    performanceFactor: fleet.performanceFactor,
    costPer1000TwoVcpuMinutes: fleet.costPer1000TwoVcpuMinutes === undefined ? null : money(fleet.costPer1000TwoVcpuMinutes),
    breakEven: fleet.hosted.map(breakEvenJson),
  };
}

function leversJson(totals: CostTotals): CostJsonFleet['levers'] {
  return { schedule: money(totals.levers.schedule), spot: money(totals.levers.spot), graviton: money(totals.levers.graviton) };
}

function priceJson(price: PricedType): CostJsonPrice;
function priceJson(price: PricedType | undefined): CostJsonPrice | null;
function priceJson(price: PricedType | undefined): CostJsonPrice | null {
  return price ? { instanceType: price.instanceType, usdPerHour: price.usdPerHour, provenance: price.provenance } : null;
}

function breakEvenJson(comparison: HostedComparison): CostJsonBreakEven {
  const utilization = comparison.breakEvenUtilization;
  return {
    hosted: comparison.hosted.id,
    name: comparison.hosted.name,
    usdPer1000Minutes: comparison.hosted.usdPer1000Minutes,
    // The text table says "never" above 100%; so does null here.
    utilizationPercent: Number.isFinite(utilization) && utilization <= 1 ? percent(utilization * 100) : null,
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
      monthlyCost: money(report.total.monthlyCost),
      baselineMonthlyCost: money(report.total.baselineMonthlyCost),
      weeklySavings: money(report.total.weeklySavings),
      instanceHoursPerWeek: round(
        report.fleets.reduce((sum, f) => sum + f.instanceHoursPerWeek, 0),
        4,
      ),
      levers: leversJson(report.total),
      costPer1000JobMinutes: money(report.total.costPer1000JobMinutes ?? 0),
      breakEven: report.total.hosted.map(breakEvenJson),
    },
    currency: report.currency,
    week: report.weekDescription,
    baselineInstanceType: report.baselineInstanceType,
    gravitonPerformanceFactor: report.gravitonPerformanceFactor,
    warnings: report.warnings,
  };
}
