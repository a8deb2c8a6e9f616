/**
 * The human-readable cost report: aligned text tables for a terminal, or GitHub-flavoured
 * markdown for a README or a merge request. Both render the same sections from one model, so
 * they never disagree.
 */
import type { CostReport, FleetCostEstimate, HostedComparison } from './estimate';
import type { HostedCiPrice } from './price-snapshot';

export type TextFormat = 'table' | 'markdown';

interface Section {
  readonly title: string;
  readonly header: readonly string[];
  /** Per column: right-align (numbers) or not. */
  readonly numeric: readonly boolean[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** What the report is about, for its first line. */
export interface ReportContext {
  /** The config file estimated, e.g. `fleet.config.yaml`. */
  readonly configFile?: string;
}

/**
 * `fixed` (a number as toFixed writes it) with en-US thousands separators. Written out rather
 * than Intl.NumberFormat: the first ICU number format of a process costs more CPU than the
 * whole report of a small config.
 */
function groupThousands(fixed: string): string {
  const [whole, fraction] = fixed.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** USD with thousands separators, e.g. `$1,664.00`, `-$0.12`. */
export function usd(value: number, decimals = 2): string {
  const rounded = Number(value.toFixed(decimals));
  const sign = rounded < 0 ? '-' : '';
  return `${sign}$${groupThousands(Math.abs(rounded).toFixed(decimals))}`;
}

/** Hours with one or two decimals, e.g. `50.0`, `1,234.25`. */
export function hours(value: number): string {
  const fixed = value.toFixed(2);
  return groupThousands(fixed.endsWith('0') ? fixed.slice(0, -1) : fixed);
}

function pct(value: number): string {
  return `${value.toFixed(1)}%`;
}

function utilization(comparison: HostedComparison | undefined): string {
  if (!comparison) return 'n/a';
  if (comparison.breakEvenUtilization > 1) return 'never';
  const share = comparison.breakEvenUtilization * 100;
  return `${share < 1 ? share.toFixed(2) : share.toFixed(1)}%`;
}

function pricedAt(fleet: FleetCostEstimate): string {
  const parts: string[] = [];
  if (fleet.onDemandPrice) parts.push(`${fleet.onDemandPrice.instanceType} on-demand ${usd(fleet.onDemandPrice.usdPerHour, 4)}/h`);
  if (fleet.spotPrice) parts.push(`${fleet.spotPrice.instanceType} spot ${usd(fleet.spotPrice.usdPerHour, 4)}/h`);
  return parts.length > 0 ? parts.join(' + ') : 'no running hours';
}

function sections(report: CostReport): Section[] {
  const { fleets, total } = report;
  const cost: Section = {
    title: 'Cost per fleet',
    header: [
      'Fleet',
      'Compute',
      'Priced at',
      'Uptime h/wk',
      'Instance-h/wk',
      'Weekly',
      'Monthly',
      'Yearly',
      'Baseline/wk',
      'Baseline/yr',
      'Saved',
    ],
    numeric: [false, false, false, true, true, true, true, true, true, true, true],
    rows: [
      ...fleets.map((f) => [
        f.name,
        f.computeType,
        pricedAt(f),
        hours(f.uptimeHoursPerWeek),
        hours(f.instanceHoursPerWeek),
        usd(f.weeklyCost),
        usd(f.monthlyCost),
        usd(f.yearlyCost),
        usd(f.baselineWeeklyCost),
        usd(f.baselineYearlyCost),
        pct(f.savingsPercent),
      ]),
      [
        'Total',
        '',
        '',
        '',
        hours(fleets.reduce((s, f) => s + f.instanceHoursPerWeek, 0)),
        usd(total.weeklyCost),
        usd(total.monthlyCost),
        usd(total.yearlyCost),
        usd(total.baselineWeeklyCost),
        usd(total.baselineYearlyCost),
        pct(total.savingsPercent),
      ],
    ],
  };
  const levers: Section = {
    title: 'Weekly savings by lever (applied in this order: schedule, then spot, then Graviton)',
    header: ['Fleet', 'Schedule', 'Spot', 'Graviton', 'Total saved/wk', 'Saved'],
    numeric: [false, true, true, true, true, true],
    rows: [
      ...fleets.map((f) => [
        f.name,
        usd(f.levers.schedule),
        usd(f.levers.spot),
        usd(f.levers.graviton),
        usd(f.weeklySavings),
        pct(f.savingsPercent),
      ]),
      [
        'Total',
        usd(total.levers.schedule),
        usd(total.levers.spot),
        usd(total.levers.graviton),
        usd(total.weeklySavings),
        pct(total.savingsPercent),
      ],
    ],
  };
  const hosted = report.fleets[0]?.hosted.map((h) => h.hosted) ?? [];
  const perMinute: Section = {
    title: 'Per 1,000 job-minutes at full utilization, and the utilization at which hosted CI costs the same',
    header: [
      'Fleet',
      'Runner-min/h',
      'Self-hosted',
      'Per 1,000 2-vCPU-min',
      ...hosted.map((h) => `Break-even vs ${shortName(h.id)} ${usd(h.usdPer1000Minutes, 0)}`),
    ],
    numeric: [false, true, true, true, ...hosted.map(() => true)],
    rows: [
      ...fleets.map((f) => [
        f.name,
        String(f.runnerMinutesPerHour),
        f.costPer1000JobMinutes === undefined ? 'n/a' : usd(f.costPer1000JobMinutes, 4),
        f.costPer1000TwoVcpuMinutes === undefined ? 'n/a' : usd(f.costPer1000TwoVcpuMinutes, 4),
        ...hosted.map((h) => utilization(f.hosted.find((c) => c.hosted.id === h.id))),
      ]),
      [
        'Total',
        '',
        total.costPer1000JobMinutes === undefined ? 'n/a' : usd(total.costPer1000JobMinutes, 4),
        '',
        ...hosted.map((h) => utilization(total.hosted.find((c) => c.hosted.id === h.id))),
      ],
    ],
  };
  return [cost, levers, perMinute];
}

const SHORT_NAMES: Readonly<Record<HostedCiPrice['id'], string>> = {
  'gitlab-com': 'GitLab.com',
  'github-x64': 'GitHub x64',
  'github-arm64': 'GitHub arm64',
};

function shortName(id: HostedCiPrice['id']): string {
  return SHORT_NAMES[id];
}

function preamble(report: CostReport, context: ReportContext): string[] {
  const source = report.priceSource;
  const factor = report.gravitonPerformanceFactor;
  const shown = Number(factor.toFixed(4));
  const factorNote =
    factor === 1
      ? 'no credit, the estimate is the bill for the scheduled hours'
      : `arm64 costs x ${shown}, for the same work done in less time`;
  return [
    `Cost estimate${context.configFile ? ` for ${context.configFile}` : ''}, ${source.region}, USD`,
    `Prices: ${source.kind} ${source.date}: ${source.description}`,
    `Hours: ${report.weekDescription}`,
    `Baseline: ${report.baselineInstanceType} on-demand, always on (168 h/week), one per peak fleet instance`,
    `Graviton performance factor: ${shown} (${factorNote})`,
  ];
}

function notes(report: CostReport): string[] {
  const hosted = report.fleets[0]?.hosted.map((h) => h.hosted) ?? [];
  return [
    "A job-minute is one of the runner's `concurrency` slots for a minute; hosted minutes run on a dedicated 2-vCPU machine, so the 2-vCPU column is the like-for-like one.",
    'Spot hours are priced at the cheapest configured type (price-capacity-optimized), on-demand hours at the first configured type (prioritized).',
    ...hosted.map((h) => `${h.name}: ${usd(h.usdPer1000Minutes)} per 1,000 minutes (${h.date}; ${h.provenance}).`),
    ...report.warnings.map((w) => `Warning: ${w}`),
  ];
}

function renderTable(section: Section): string[] {
  const widths = section.header.map((h, i) => Math.max(h.length, ...section.rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (section.numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [section.title, '', line(section.header), widths.map((w) => '-'.repeat(w)).join('  '), ...section.rows.map(line)];
}

function renderMarkdown(section: Section): string[] {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const row = (cells: readonly string[]) => `| ${cells.map(escape).join(' | ')} |`;
  return [
    `**${section.title}**`,
    '',
    row(section.header),
    `|${section.numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`,
    ...section.rows.map((r, i) => (i === section.rows.length - 1 && r[0] === 'Total' ? row(r.map((c) => (c ? `**${c}**` : c))) : row(r))),
  ];
}

/** The report as aligned text tables (`table`) or GitHub-flavoured markdown (`markdown`). */
export function renderCostReport(report: CostReport, format: TextFormat, context: ReportContext = {}): string {
  const blocks: string[][] = [];
  if (format === 'table') {
    blocks.push(preamble(report, context));
    for (const section of sections(report)) blocks.push(renderTable(section));
    blocks.push(notes(report));
  } else {
    blocks.push(preamble(report, context).map((l) => `${l}  `));
    for (const section of sections(report)) blocks.push(renderMarkdown(section));
    blocks.push(notes(report).map((n) => `- ${n}`));
  }
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}
