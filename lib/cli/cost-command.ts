/**
 * `runner-fleet cost`: what the fleets in a config cost and save against always-on x86.
 *
 * Precedence for every setting: command line, then the config's `cost` section, then the
 * defaults (us-east-1, m5.xlarge, Graviton factor 1, the embedded price snapshot).
 */
import { Option, type Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { estimateCost } from '../cost/estimate';
import { mergeOverrides, snapshotPriceBook, type PriceBook, type PriceOverrides } from '../cost/price-book';
import { toCostJson } from '../cost/report-json';
import { renderCostReport } from '../cost/report-text';
import { TYPICAL_WEEK } from '../cost/week-hours';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { demandProfile, parseExpectedDemand, type ExpectedDemand } from '../cost/demand';
import type { CostReport } from '../cost/estimate';
import { usd } from '../cost/report-text';
import { instanceTypeName, isoDate, numberIn, priceOverride, regionName } from './option-parsers';
import { PROCESS_OUTPUT, type CliOutput } from './program';

/** Region priced when neither the command line nor the config names one. */
export const DEFAULT_COST_REGION = 'us-east-1';

export const COST_FORMATS = ['table', 'json', 'markdown'] as const;
export type CostFormat = (typeof COST_FORMATS)[number];

/** Parsed options of the `cost` command. */
export interface CostCommandOptions {
  readonly config: string;
  readonly region?: string;
  readonly live?: boolean;
  readonly format: CostFormat;
  readonly hoursPerWeek?: number;
  readonly baselineType?: string;
  readonly gravitonFactor?: number;
  readonly price?: PriceOverrides;
  readonly week?: string;
  readonly demand?: string;
}

/** Adds the `cost` subcommand to the program. */
export function registerCostCommand(program: Command, output: CliOutput = PROCESS_OUTPUT): Command {
  return program
    .command('cost')
    .description('Estimate what the fleets cost per week, month and year, and what they save against always-on x86 on-demand runners.')
    .option('-c, --config <file>', 'fleet configuration file', DEFAULT_CONFIG_FILE)
    .option('-r, --region <region>', `AWS region to price (default: cost.region in the config, else ${DEFAULT_COST_REGION})`, regionName)
    .option(
      '--live',
      'fetch current prices from the AWS Price List API and spot price history (needs AWS credentials; falls back to the snapshot)',
    )
    .addOption(new Option('-f, --format <format>', 'output format').choices(COST_FORMATS).default('table'))
    .option(
      '--hours-per-week <hours>',
      'replace every schedule with this many hours a week at peak capacity',
      numberIn(0, 168, 'hours a week'),
    )
    .option('--baseline-type <type>', 'always-on on-demand instance each runner is compared with (default: m5.xlarge)', instanceTypeName)
    .option(
      '--graviton-factor <factor>',
      "share of the time arm64 needs for the same work: 1 = no credit (default), 0.735 = 1/1.36, 0.64 = the GitLab blog's 97% example",
      numberIn(0, 2, "1 = no credit, 0.735 = 1/1.36, 0.64 = the GitLab blog's 97% example"),
    )
    .option(
      '--price <type:kind=usd>',
      'price override, repeatable, e.g. --price m6g.large:spot=0.0419 --price m5.xlarge:on-demand=0.192',
      priceOverride,
    )
    .option(
      '--demand <json|file>',
      'expected demand, inline JSON or a YAML/JSON file: {"jobMinutes": 12, "jobsPerHour": {"weekdays": [24 numbers], "weekends": 0}}; prices demand scaling against the schedule alone and always-on',
    )
    .option('--week <date>', 'count real hours of the local week containing this date (YYYY-MM-DD), DST changes included', isoDate)
    .action(async (options: CostCommandOptions) => {
      output.out(await costCommandOutput(options, output));
    });
}

/** Runs the estimate and renders it; warnings also go to stderr so JSON on stdout stays clean. */
export async function costCommandOutput(options: CostCommandOptions, output: CliOutput = PROCESS_OUTPUT): Promise<string> {
  const config = loadFleetConfig(options.config);
  const settings = config.cost;
  const region = options.region ?? settings?.region ?? DEFAULT_COST_REGION;
  const baselineInstanceType = options.baselineType ?? settings?.baselineInstanceType;
  const overrides = mergeOverrides(settings?.prices ?? {}, options.price ?? {});
  const prices = options.live
    ? await livePrices(region, [...config.fleets.flatMap((f) => f.instanceTypes), baselineInstanceType ?? 'm5.xlarge'], overrides)
    : snapshotPriceBook(region, overrides);
  const costOptions = {
    prices,
    baselineInstanceType,
    gravitonPerformanceFactor: options.gravitonFactor ?? settings?.gravitonPerformanceFactor,
    hoursPerWeek: options.hoursPerWeek,
    week: options.week ? ({ kind: 'calendar', date: options.week } as const) : TYPICAL_WEEK,
  };
  const scheduleReport = estimateCost(config, costOptions);
  const demand = options.demand === undefined ? undefined : readDemand(options.demand);
  const profiles = demand && Object.fromEntries(config.fleets.map((fleet) => [fleet.name, demandProfile(fleet, demand)]));
  const report = profiles
    ? estimateCost(config, { ...costOptions, profiles: Object.fromEntries(Object.entries(profiles).map(([name, p]) => [name, p.profile])) })
    : scheduleReport;
  for (const warning of report.warnings) output.err(`warning: ${warning}\n`);
  const comparison = profiles && demandComparison(scheduleReport, report, profiles);
  if (options.format === 'json')
    return `${JSON.stringify(comparison ? { ...toCostJson(report), demand: comparison } : toCostJson(report), null, 2)}\n`;
  const text = renderCostReport(report, options.format, { configFile: options.config });
  return comparison ? `${text}\n${renderDemandComparison(comparison)}` : text;
}

/** Inline JSON (starting with `{`) or a YAML/JSON file. */
function readDemand(value: string): ExpectedDemand {
  const text = value.trim().startsWith('{') ? value : readFileSync(value, 'utf8');
  return parseExpectedDemand(parseYaml(text));
}

export interface DemandComparison {
  readonly fleets: ReadonlyArray<{
    readonly name: string;
    readonly demandWeeklyCost: number;
    readonly scheduleWeeklyCost: number;
    readonly alwaysOnWeeklyCost: number;
    readonly demandInstanceHours: number;
    readonly scheduleInstanceHours: number;
    readonly p95WaitSeconds: number;
    readonly jobsNeverStarted: number;
  }>;
  readonly demandWeeklyCost: number;
  readonly scheduleWeeklyCost: number;
  readonly alwaysOnWeeklyCost: number;
}

function demandComparison(
  schedule: CostReport,
  demand: CostReport,
  profiles: Readonly<Record<string, { p95WaitSeconds: number; jobsNeverStarted: number }>>,
): DemandComparison {
  return {
    fleets: demand.fleets.map((fleet, i) => ({
      name: fleet.name,
      demandWeeklyCost: fleet.weeklyCost,
      scheduleWeeklyCost: schedule.fleets[i].weeklyCost,
      alwaysOnWeeklyCost: fleet.baselineWeeklyCost,
      demandInstanceHours: fleet.instanceHoursPerWeek,
      scheduleInstanceHours: schedule.fleets[i].instanceHoursPerWeek,
      p95WaitSeconds: profiles[fleet.name].p95WaitSeconds,
      jobsNeverStarted: profiles[fleet.name].jobsNeverStarted,
    })),
    demandWeeklyCost: demand.total.weeklyCost,
    scheduleWeeklyCost: schedule.total.weeklyCost,
    alwaysOnWeeklyCost: demand.total.baselineWeeklyCost,
  };
}

function renderDemandComparison(c: DemandComparison): string {
  const rows = [
    ['fleet', 'demand scaling', 'schedule alone', 'always-on', 'instance-h demand/schedule', 'p95 wait', 'never started'],
    ...c.fleets.map((f) => [
      f.name,
      usd(f.demandWeeklyCost),
      usd(f.scheduleWeeklyCost),
      usd(f.alwaysOnWeeklyCost),
      `${f.demandInstanceHours.toFixed(1)} / ${f.scheduleInstanceHours.toFixed(1)}`,
      `${Math.round(f.p95WaitSeconds)} s`,
      String(f.jobsNeverStarted),
    ]),
    ['total', usd(c.demandWeeklyCost), usd(c.scheduleWeeklyCost), usd(c.alwaysOnWeeklyCost), '', '', ''],
  ];
  const widths = rows[0].map((_h, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  return ['Weekly cost with the expected demand (the table above prices demand scaling)', ...lines, ''].join('\n');
}

async function livePrices(region: string, instanceTypes: string[], overrides: PriceOverrides): Promise<PriceBook> {
  // Loaded only here, so the AWS SDK costs nothing unless --live is given.
  const { livePriceBook } = await import('../cost/live-prices.js');
  return livePriceBook({ region, instanceTypes, overrides });
}
