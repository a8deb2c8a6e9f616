/**
 * The cost model: what each fleet costs per week, month and year, what the same work costs on
 * always-on x86 on-demand instances, and how much of the difference each lever accounts for.
 *
 * Pure: computed from the same capacity profile the stacks deploy (`fleetCapacityProfile`),
 * and from a {@link PriceBook}; no CDK, no AWS SDK.
 *
 * The model, per fleet:
 * - Hours. The profile gives the desired capacity for every minute of the local week. A spot
 *   fleet runs `min(desired, onDemandBase)` instances on-demand and the rest on spot; an
 *   on-demand fleet runs everything on-demand. A typical week has no DST change; a calendar
 *   week counts real hours (see week-hours.ts).
 * - A mix of instance types. Spot hours are priced at the cheapest configured type's spot price,
 *   because the price-capacity-optimized allocation strategy leans to the cheapest pools that
 *   have capacity; on-demand hours at the first configured type, because an Auto Scaling group's
 *   on-demand allocation strategy is `prioritized` (list order) by default. Either is the price of
 *   one real type, never an average of types the group may not launch.
 * - The baseline. The same peak capacity on the baseline type (m5.xlarge, as in the GitLab blog's 97% example),
 *   on-demand, always on: peak instances x 168 h x the baseline's on-demand price.
 * - The Graviton factor. The share of the time an arm64 instance needs for the work an x86 one
 *   does; arm64 fleet costs are multiplied by it. The GitLab blog's 97% example uses 0.64 for "36% better
 *   performance"; the arithmetic reading of that claim is 1/1.36 = 0.735. The default is 1 (no
 *   credit): the scheduled instance-hours are billed whatever the speed, and a speed-up only
 *   becomes money when the fleet is made smaller or its hours shorter, so the default estimate
 *   is the bill. Users with benchmarks of their own jobs set their factor.
 * - Levers, in this fixed order, each applied on top of the previous ones, so they sum to the
 *   total saving: (1) schedule: baseline type on-demand for the scheduled instance-hours
 *   instead of 168 h at peak; (2) spot: the spot share of those hours at the baseline type's
 *   spot price; (3) graviton: the fleet's own instance types (and, for arm64 fleets, the
 *   performance factor) instead of the baseline type. A lever that costs more shows a negative
 *   saving (e.g. an x86 fleet on types dearer than the baseline).
 */
import type { ComputeType, FleetConfig, FleetSpec } from '../config/fleet-config';
import type { Architecture } from '../config/instance-types';
import { fleetCapacityProfile, neverRunsWarning } from '../config/fleet-config';
import { DEFAULT_BASELINE_INSTANCE_TYPE, DEFAULT_GRAVITON_PERFORMANCE_FACTOR } from '../config/schema';
import { MINUTES_PER_WEEK, type CapacitySegment } from '../config/schedule';
import { CostError } from './errors';
import type { PriceBook, PriceSource } from './price-book';
import type { HostedCiPrice } from './price-snapshot';
import { describeWeek, segmentHours, TYPICAL_WEEK, type EstimateWeek } from './week-hours';

export { DEFAULT_BASELINE_INSTANCE_TYPE, DEFAULT_GRAVITON_PERFORMANCE_FACTOR };

/** The Graviton factor of the GitLab blog's 97% example ("36% better performance" applied as x 0.64). */
export const SEED_GRAVITON_PERFORMANCE_FACTOR = 0.64;
/** The arithmetic reading of "36% better performance": the same work in 1/1.36 of the time. */
export const ARITHMETIC_GRAVITON_PERFORMANCE_FACTOR = 1 / 1.36;

export const HOURS_PER_WEEK = MINUTES_PER_WEEK / 60;
export const WEEKS_PER_MONTH = 52 / 12;
export const WEEKS_PER_YEAR = 52;

/** Options of {@link estimateCost}. */
export interface CostOptions {
  readonly prices: PriceBook;
  /**
   * Always-on on-demand instance each peak fleet instance is compared with.
   * @default 'm5.xlarge'
   */
  readonly baselineInstanceType?: string;
  /**
   * Multiplies arm64 fleet costs: the share of the time Graviton needs for the same work.
   * @default 1 (no performance credit)
   */
  readonly gravitonPerformanceFactor?: number;
  /**
   * Replaces every fleet's schedule with this many hours a week at its peak capacity.
   * @default - each fleet's own schedule
   */
  readonly hoursPerWeek?: number;
  /**
   * Capacity profiles by fleet name that replace the schedule (e.g. demand scaling simulated by
   * lib/cost/demand.ts). The baseline stays the schedule's peak, so estimates compare.
   * @default - each fleet's own schedule
   */
  readonly profiles?: Readonly<Record<string, readonly CapacitySegment[]>>;
  /**
   * The week whose hours are counted.
   * @default TYPICAL_WEEK (no DST change)
   */
  readonly week?: EstimateWeek;
}

/** Savings attributed to each lever, USD per week; they sum to the total saving. */
export interface LeverSavings {
  readonly schedule: number;
  readonly spot: number;
  readonly graviton: number;
}

/** The fleet against one hosted CI offering. */
export interface HostedComparison {
  readonly hosted: HostedCiPrice;
  /**
   * Share of the fleet's runner-minutes that must be used for self-hosting to cost the same as
   * the hosted minutes (cost per 1,000 job-minutes / hosted price). Above 1: never breaks even.
   */
  readonly breakEvenUtilization: number;
}

/** The price one kind of hour is charged at. */
export interface PricedType {
  readonly instanceType: string;
  readonly usdPerHour: number;
  readonly provenance: string;
}

/** Money and minutes, for one fleet or the total of all fleets. */
export interface CostTotals {
  readonly weeklyCost: number;
  readonly monthlyCost: number;
  readonly yearlyCost: number;
  readonly baselineWeeklyCost: number;
  readonly baselineMonthlyCost: number;
  readonly baselineYearlyCost: number;
  readonly weeklySavings: number;
  /** 0-100; 0 when the baseline costs nothing. */
  readonly savingsPercent: number;
  readonly levers: LeverSavings;
  /** Runner-minutes offered per week (every slot of every running instance). */
  readonly jobMinutesPerWeek: number;
  /** At full utilization; undefined when no minutes are offered. */
  readonly costPer1000JobMinutes?: number;
  readonly hosted: readonly HostedComparison[];
}

export interface FleetCostEstimate extends CostTotals {
  readonly name: string;
  readonly computeType: ComputeType;
  readonly architecture: Architecture;
  readonly instanceTypes: readonly string[];
  /** Hours a week with at least one instance running. */
  readonly uptimeHoursPerWeek: number;
  readonly instanceHoursPerWeek: number;
  readonly onDemandInstanceHoursPerWeek: number;
  readonly spotInstanceHoursPerWeek: number;
  /** Largest desired capacity in the week; the baseline keeps this many instances always on. */
  readonly peakInstances: number;
  /** Undefined when the fleet runs no hours of that kind. */
  readonly onDemandPrice?: PricedType;
  readonly spotPrice?: PricedType;
  readonly baselineOnDemandPrice: PricedType;
  /** The factor applied to this fleet (1 for x86 fleets). */
  readonly performanceFactor: number;
  /** Per instance: job concurrency x 60. */
  readonly runnerMinutesPerHour: number;
  /** Per 1,000 minutes of 2 vCPUs (the hosted runners' machine), for a like-for-like look; undefined when unknown. */
  readonly costPer1000TwoVcpuMinutes?: number;
}

export interface CostReport {
  readonly priceSource: PriceSource;
  readonly currency: 'USD';
  readonly baselineInstanceType: string;
  readonly gravitonPerformanceFactor: number;
  /** Set when the schedules were replaced by a flat number of hours. */
  readonly hoursPerWeek?: number;
  readonly week: EstimateWeek;
  readonly weekDescription: string;
  readonly fleets: readonly FleetCostEstimate[];
  readonly total: CostTotals;
  readonly warnings: readonly string[];
}

/** Estimates every fleet of a config and the total. */
export function estimateCost(config: Pick<FleetConfig, 'fleets'>, options: CostOptions): CostReport {
  const baselineInstanceType = options.baselineInstanceType ?? DEFAULT_BASELINE_INSTANCE_TYPE;
  const gravitonPerformanceFactor = options.gravitonPerformanceFactor ?? DEFAULT_GRAVITON_PERFORMANCE_FACTOR;
  validateOptions(options, gravitonPerformanceFactor);
  const week = options.hoursPerWeek !== undefined ? TYPICAL_WEEK : (options.week ?? TYPICAL_WEEK);
  const fleets = config.fleets.map((fleet) =>
    estimateFleetCost(fleet, { ...options, baselineInstanceType, gravitonPerformanceFactor, week }),
  );
  return {
    priceSource: options.prices.source,
    currency: 'USD',
    baselineInstanceType,
    gravitonPerformanceFactor,
    hoursPerWeek: options.hoursPerWeek,
    week,
    weekDescription:
      options.hoursPerWeek !== undefined
        ? `${options.hoursPerWeek} h a week at peak capacity (schedules replaced by --hours-per-week)`
        : describeWeek(week),
    fleets,
    total: totals(fleets, options.prices.hostedCi),
    warnings: [...options.prices.warnings, ...config.fleets.flatMap((fleet) => neverRunsWarning(fleet) ?? [])],
  };
}

function validateOptions(options: CostOptions, factor: number): void {
  if (!(factor > 0 && factor <= 2))
    throw new CostError(
      `gravitonPerformanceFactor (${factor}) must be > 0 and <= 2 (1 = no credit, 0.735 = 1/1.36, 0.64 = the GitLab blog's 97% example)`,
    );
  const hours = options.hoursPerWeek;
  if (hours !== undefined && !(hours > 0 && hours <= HOURS_PER_WEEK))
    throw new CostError(`hoursPerWeek (${hours}) must be > 0 and <= ${HOURS_PER_WEEK}`);
}

/** Estimates one fleet. */
export function estimateFleetCost(fleet: FleetSpec, options: CostOptions): FleetCostEstimate {
  const baselineType = options.baselineInstanceType ?? DEFAULT_BASELINE_INSTANCE_TYPE;
  const factor = fleet.architecture === 'arm64' ? (options.gravitonPerformanceFactor ?? DEFAULT_GRAVITON_PERFORMANCE_FACTOR) : 1;
  const scheduled = fleetCapacityProfile(fleet);
  const peakInstances = Math.max(0, ...scheduled.map((s) => s.desired));
  const profile =
    options.hoursPerWeek !== undefined ? flatProfile(options.hoursPerWeek, peakInstances) : (options.profiles?.[fleet.name] ?? scheduled);
  const hours = segmentHours(profile, fleet.schedule?.timeZone, options.week ?? TYPICAL_WEEK);
  const onDemandFloor = fleet.computeType === 'spot' ? fleet.onDemandBase : Number.POSITIVE_INFINITY;
  let onDemandHours = 0;
  let spotHours = 0;
  profile.forEach((segment, i) => {
    const onDemand = Math.min(segment.desired, onDemandFloor);
    onDemandHours += onDemand * hours[i];
    spotHours += (segment.desired - onDemand) * hours[i];
  });
  const uptimeHours = options.hoursPerWeek ?? profile.reduce((sum, s, i) => sum + (s.desired > 0 ? hours[i] : 0), 0);

  const prices = options.prices;
  const priced = (instanceType: string, kind: 'onDemand' | 'spot'): PricedType => ({ instanceType, ...prices.price(instanceType, kind) });
  const baselineOnDemand = priced(baselineType, 'onDemand');
  const onDemandPrice = onDemandHours > 0 ? priced(fleet.instanceTypes[0], 'onDemand') : undefined;
  const spotPrice = spotHours > 0 ? cheapest(fleet.instanceTypes.map((t) => priced(t, 'spot'))) : undefined;
  const baselineSpot = spotHours > 0 ? priced(baselineType, 'spot').usdPerHour : 0;

  const baselineWeekly = peakInstances * HOURS_PER_WEEK * baselineOnDemand.usdPerHour;
  const afterSchedule = (onDemandHours + spotHours) * baselineOnDemand.usdPerHour;
  const afterSpot = onDemandHours * baselineOnDemand.usdPerHour + spotHours * baselineSpot;
  const weekly = (onDemandHours * (onDemandPrice?.usdPerHour ?? 0) + spotHours * (spotPrice?.usdPerHour ?? 0)) * factor;

  const runnerMinutesPerHour = fleet.concurrency * 60;
  const jobMinutesPerWeek = (onDemandHours + spotHours) * runnerMinutesPerHour;
  const costPer1000JobMinutes = jobMinutesPerWeek > 0 ? (weekly / jobMinutesPerWeek) * 1000 : undefined;
  const twoVcpuMinutes = twoVcpuMinutesPerWeek(onDemandHours, onDemandPrice, spotHours, spotPrice);
  return {
    name: fleet.name,
    computeType: fleet.computeType,
    architecture: fleet.architecture,
    instanceTypes: fleet.instanceTypes,
    uptimeHoursPerWeek: uptimeHours,
    instanceHoursPerWeek: onDemandHours + spotHours,
    onDemandInstanceHoursPerWeek: onDemandHours,
    spotInstanceHoursPerWeek: spotHours,
    peakInstances,
    onDemandPrice,
    spotPrice,
    baselineOnDemandPrice: baselineOnDemand,
    performanceFactor: factor,
    weeklyCost: weekly,
    monthlyCost: weekly * WEEKS_PER_MONTH,
    yearlyCost: weekly * WEEKS_PER_YEAR,
    baselineWeeklyCost: baselineWeekly,
    baselineMonthlyCost: baselineWeekly * WEEKS_PER_MONTH,
    baselineYearlyCost: baselineWeekly * WEEKS_PER_YEAR,
    weeklySavings: baselineWeekly - weekly,
    savingsPercent: percentSaved(baselineWeekly, weekly),
    levers: { schedule: baselineWeekly - afterSchedule, spot: afterSchedule - afterSpot, graviton: afterSpot - weekly },
    runnerMinutesPerHour,
    jobMinutesPerWeek,
    costPer1000JobMinutes,
    costPer1000TwoVcpuMinutes: twoVcpuMinutes && twoVcpuMinutes > 0 ? (weekly / twoVcpuMinutes) * 1000 : undefined,
    hosted: compareHosted(costPer1000JobMinutes, prices.hostedCi),
  };
}

/** n hours at `desired` instances from the start of the week, then nothing. */
function flatProfile(hoursPerWeek: number, desired: number): CapacitySegment[] {
  const minutes = Math.round(hoursPerWeek * 60);
  const profile: CapacitySegment[] = [{ fromMinute: 0, toMinute: minutes, desired }];
  if (minutes < MINUTES_PER_WEEK) profile.push({ fromMinute: minutes, toMinute: MINUTES_PER_WEEK, desired: 0 });
  return profile;
}

function cheapest(prices: readonly PricedType[]): PricedType {
  return prices.reduce((best, p) => (p.usdPerHour < best.usdPerHour ? p : best));
}

/** vCPUs of the common sizes (AWS sizes are linear: large = 2, xlarge = 4, 2xlarge = 8, ...). */
export function vcpusOf(instanceType: string): number | undefined {
  const size = instanceType.split('.')[1] ?? '';
  const fixed: Record<string, number> = { medium: 1, large: 2, xlarge: 4 };
  if (fixed[size] !== undefined) return fixed[size];
  const multiple = /^(\d+)xlarge$/.exec(size);
  return multiple ? Number(multiple[1]) * 4 : undefined;
}

function twoVcpuMinutesPerWeek(
  onDemandHours: number,
  onDemand: PricedType | undefined,
  spotHours: number,
  spot: PricedType | undefined,
): number | undefined {
  let minutes = 0;
  for (const [hours, price] of [
    [onDemandHours, onDemand],
    [spotHours, spot],
  ] as const) {
    if (hours === 0 || !price) continue;
    const vcpus = vcpusOf(price.instanceType);
    if (vcpus === undefined) return undefined;
    minutes += hours * 60 * (vcpus / 2);
  }
  return minutes;
}

function compareHosted(costPer1000JobMinutes: number | undefined, hostedCi: readonly HostedCiPrice[]): HostedComparison[] {
  if (costPer1000JobMinutes === undefined) return [];
  return hostedCi.map((hosted) => ({ hosted, breakEvenUtilization: costPer1000JobMinutes / hosted.usdPer1000Minutes }));
}

function percentSaved(baseline: number, cost: number): number {
  return baseline > 0 ? ((baseline - cost) / baseline) * 100 : 0;
}

function totals(fleets: readonly FleetCostEstimate[], hostedCi: readonly HostedCiPrice[]): CostTotals {
  const sum = (pick: (f: FleetCostEstimate) => number) => fleets.reduce((s, f) => s + pick(f), 0);
  const weekly = sum((f) => f.weeklyCost);
  const baseline = sum((f) => f.baselineWeeklyCost);
  const jobMinutesPerWeek = sum((f) => f.jobMinutesPerWeek);
  const costPer1000JobMinutes = jobMinutesPerWeek > 0 ? (weekly / jobMinutesPerWeek) * 1000 : undefined;
  return {
    weeklyCost: weekly,
    monthlyCost: weekly * WEEKS_PER_MONTH,
    yearlyCost: weekly * WEEKS_PER_YEAR,
    baselineWeeklyCost: baseline,
    baselineMonthlyCost: baseline * WEEKS_PER_MONTH,
    baselineYearlyCost: baseline * WEEKS_PER_YEAR,
    weeklySavings: baseline - weekly,
    savingsPercent: percentSaved(baseline, weekly),
    levers: { schedule: sum((f) => f.levers.schedule), spot: sum((f) => f.levers.spot), graviton: sum((f) => f.levers.graviton) },
    jobMinutesPerWeek,
    costPer1000JobMinutes,
    hosted: compareHosted(costPer1000JobMinutes, hostedCi),
  };
}
