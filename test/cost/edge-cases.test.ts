/**
 * Edge cases of the estimate and its reports that real configs and price books produce: a fleet
 * scaled to zero, instance sizes without a vCPU count, a fleet dearer than hosted CI, no credit,
 * warnings from the price book, a calendar week overridden by --hours-per-week.
 */
import { describe, expect, it } from 'vitest';
import { CostError } from '../../lib/cost/errors';
import { estimateCost, vcpusOf } from '../../lib/cost/estimate';
import { snapshotLayer, snapshotPriceBook } from '../../lib/cost/price-book';
import { PRICE_SNAPSHOT } from '../../lib/cost/price-snapshot';
import { money, toCostJson } from '../../lib/cost/report-json';
import { renderCostReport } from '../../lib/cost/report-text';
import { localWeekStart, TYPICAL_WEEK } from '../../lib/cost/week-hours';
import { configWith } from './helpers';

const prices = snapshotPriceBook('us-east-1');
const idle = configWith({ name: 'idle', capacity: { min: 0, max: 4, desired: 0 } });

describe('estimate, hours per week over a calendar week', () => {
  const report = estimateCost(configWith({}), { prices, hoursPerWeek: 10, week: { kind: 'calendar', date: '2026-03-29' } });

  it('counts the flat hours, not the calendar week', () => {
    expect([report.week, report.fleets[0].uptimeHoursPerWeek]).toEqual([TYPICAL_WEEK, 10]);
  });

  it('says the schedules were replaced', () => {
    expect(report.weekDescription).toBe('10 h a week at peak capacity (schedules replaced by --hours-per-week)');
  });
});

describe('estimate, all 168 hours of the week', () => {
  it('runs the peak capacity the whole week', () => {
    const fleet = estimateCost(configWith({ capacity: { min: 0, max: 4, desired: 2 } }), { prices, hoursPerWeek: 168 }).fleets[0];
    expect([fleet.uptimeHoursPerWeek, fleet.instanceHoursPerWeek]).toEqual([168, 336]);
  });
});

describe('estimate, Graviton factor', () => {
  it.each([0, 2.5, Number.NaN])('rejects %s, naming the field and the range', (factor) => {
    expect(() => estimateCost(configWith({}), { prices, gravitonPerformanceFactor: factor })).toThrow(
      new CostError(
        `gravitonPerformanceFactor (${factor}) must be > 0 and <= 2 (1 = no credit, 0.735 = 1/1.36, 0.64 = the GitLab blog's 97% example)`,
      ),
    );
  });
});

describe('estimate, a fleet scaled to zero', () => {
  const report = estimateCost(idle, { prices });
  const fleet = report.fleets[0];

  it('costs and saves nothing, without dividing by zero', () => {
    expect([fleet.weeklyCost, fleet.baselineWeeklyCost, fleet.savingsPercent, report.total.savingsPercent]).toEqual([0, 0, 0, 0]);
  });

  it('has no cost per job-minute and no hosted comparison', () => {
    expect([fleet.costPer1000JobMinutes, fleet.costPer1000TwoVcpuMinutes, fleet.hosted]).toEqual([undefined, undefined, []]);
    expect([report.total.costPer1000JobMinutes, report.total.hosted]).toEqual([undefined, []]);
  });

  it('gives 0 per 1,000 job-minutes in JSON, so the field stays a number', () => {
    expect(toCostJson(report).fleets[0].costPer1000JobMinutes).toBe(0);
  });

  it('shows "no running hours" and n/a in the text report', () => {
    const text = renderCostReport(report, 'table');
    expect(text).toMatch(/^idle +spot +no running hours/m);
    expect(text).toMatch(/^idle +600 +n\/a +n\/a$/m);
    expect(text).toMatch(/^Total +n\/a$/m);
  });
});

describe('vCPUs of an instance size', () => {
  it.each([
    ['m6g.medium', 1],
    ['m6g.large', 2],
    ['m6g.xlarge', 4],
    ['m6g.16xlarge', 64],
    ['m6g.metal', undefined],
    ['nodot', undefined],
  ])('%s has %s', (type, vcpus) => expect(vcpusOf(type)).toBe(vcpus));

  it('leaves the 2-vCPU cost of a fleet on a size of unknown vCPUs out, keeping the job-minute cost', () => {
    const report = estimateCost(configWith({ instanceTypes: ['m6g.metal'] }), {
      prices: snapshotPriceBook('us-east-1', { 'm6g.metal': { spot: 1 } }),
    });
    expect(report.fleets[0].costPer1000TwoVcpuMinutes).toBeUndefined();
    expect(report.fleets[0].costPer1000JobMinutes).toBeGreaterThan(0);
  });
});

describe('text report', () => {
  it('says "never" for a fleet that costs more per minute than hosted CI at any utilization', () => {
    const report = estimateCost(configWith({ name: 'dear', concurrency: 1 }), {
      prices: snapshotPriceBook('us-east-1', { 'm6g.large': { spot: 100 } }),
    });
    expect(renderCostReport(report, 'table')).toMatch(/^dear +60 +\$1,666\.6667 +\$1,666\.6667 +never +never +never$/m);
  });

  it('shows n/a for the break-even of a fleet with no minutes beside one that has them', () => {
    const mixed = configWith({ name: 'busy' }, { name: 'idle', capacity: { min: 0, max: 4, desired: 0 } });
    const text = renderCostReport(estimateCost(mixed, { prices }), 'table');
    expect(text).toMatch(/^idle +600 +n\/a +n\/a +n\/a +n\/a +n\/a$/m);
  });

  it('explains a factor of 1 as no credit', () => {
    const text = renderCostReport(estimateCost(configWith({}), { prices }), 'table');
    expect(text).toContain('Graviton performance factor: 1 (no credit, the estimate is the bill for the scheduled hours)');
  });

  it('prints each price book warning as a note', () => {
    const warned = snapshotPriceBook('us-east-1', {}, ['live prices unavailable (throttled by AWS: ThrottlingException)']);
    const text = renderCostReport(estimateCost(configWith({}), { prices: warned }), 'markdown');
    expect(text).toContain('Warning: live prices unavailable (throttled by AWS: ThrottlingException)');
  });

  it('renders a config without fleets without hosted columns or notes', () => {
    const text = renderCostReport(estimateCost({ fleets: [] }, { prices }), 'table');
    expect(text).toContain('Runner-min/h');
    expect(text).not.toContain('Break-even');
    expect(text).not.toContain('per 1,000 minutes (');
  });
});

describe('rounding', () => {
  it('turns a tiny negative amount into 0, never -0', () => expect(Object.is(money(-1e-9), 0)).toBe(true));
});

describe('week and snapshot errors', () => {
  it('rejects a week that is not YYYY-MM-DD, naming the format', () => {
    expect(() => localWeekStart('2026-3-29')).toThrow(new CostError('week "2026-3-29" is not a date; use YYYY-MM-DD, e.g. 2026-03-29'));
  });

  it('lists the regions of a custom snapshot when its region is missing', () => {
    const custom = { ...PRICE_SNAPSHOT, regions: { 'eu-west-9': PRICE_SNAPSHOT.regions['us-east-1'] } };
    expect(() => snapshotLayer('us-east-1', custom)).toThrow('no price snapshot for region "us-east-1"; snapshot regions: eu-west-9.');
  });
});
