import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../lib/cost/estimate';
import { snapshotPriceBook } from '../../lib/cost/price-book';
import { toCostJson } from '../../lib/cost/report-json';
import { renderCostReport, usd } from '../../lib/cost/report-text';
import { configWith, schedule } from './helpers';

const report = estimateCost(
  configWith(
    { name: 'arm-spot', schedule: schedule('mon-fri', '09:00', '17:00') },
    { name: 'arm-ondemand', computeType: 'on-demand', instanceTypes: ['m7g.large'], concurrency: 4 },
  ),
  { prices: snapshotPriceBook('us-east-1', { 'm6g.large': { spot: 0.0419 } }), gravitonPerformanceFactor: 0.64 },
);

describe('the JSON report', () => {
  const json = toCostJson(report);

  it('starts with the keys of issue 5, in its order', () => {
    expect(Object.keys(json).slice(0, 3)).toEqual(['priceSource', 'fleets', 'total']);
    expect(Object.keys(json.priceSource)).toEqual(['kind', 'date', 'region']);
    expect(Object.keys(json.fleets[0]).slice(0, 8)).toEqual([
      'name',
      'uptimeHoursPerWeek',
      'weeklyCost',
      'baselineWeeklyCost',
      'savingsPercent',
      'runnerMinutesPerHour',
      'costPer1000JobMinutes',
      'levers',
    ]);
    expect(Object.keys(json.fleets[0].levers)).toEqual(['schedule', 'spot', 'graviton']);
    expect(Object.keys(json.total).slice(0, 5)).toEqual([
      'weeklyCost',
      'baselineWeeklyCost',
      'yearlyCost',
      'baselineYearlyCost',
      'savingsPercent',
    ]);
  });

  it('carries every figure the table shows: monthly, compute type, instance-hours, prices used, break-even (issue 14)', () => {
    const [fleet] = report.fleets;
    expect(json.fleets[0]).toMatchObject({
      computeType: 'spot',
      instanceHoursPerWeek: fleet.instanceHoursPerWeek,
      monthlyCost: Number(fleet.monthlyCost.toFixed(6)),
      baselineMonthlyCost: Number(fleet.baselineMonthlyCost.toFixed(6)),
      prices: { onDemand: null, spot: { instanceType: 'm6g.large', usdPerHour: 0.0419 } },
    });
    expect(json.fleets[0].breakEven.map((b) => b.hosted)).toEqual(fleet.hosted.map((h) => h.hosted.id));
    expect(json.fleets[0].breakEven[0].utilizationPercent).toBeCloseTo(fleet.hosted[0].breakEvenUtilization * 100, 2);
    expect(json.total.monthlyCost).toBeCloseTo(report.total.monthlyCost, 6);
    expect(json).toMatchObject({ currency: 'USD', baselineInstanceType: 'm5.xlarge', gravitonPerformanceFactor: 0.64, warnings: [] });
  });

  it('holds numbers, not strings, wherever the issue shows a number', () => {
    const round = JSON.parse(JSON.stringify(json));
    for (const fleet of round.fleets) {
      for (const key of [
        'uptimeHoursPerWeek',
        'weeklyCost',
        'baselineWeeklyCost',
        'savingsPercent',
        'runnerMinutesPerHour',
        'costPer1000JobMinutes',
      ]) {
        expect(typeof fleet[key], key).toBe('number');
      }
      for (const value of Object.values(fleet.levers)) expect(typeof value).toBe('number');
    }
    for (const key of ['weeklyCost', 'baselineWeeklyCost', 'yearlyCost', 'baselineYearlyCost', 'savingsPercent', 'monthlyCost'])
      expect(typeof round.total[key], key).toBe('number');
  });

  it('names the price source', () => expect(json.priceSource).toEqual({ kind: 'snapshot', date: '2026-01-01', region: 'us-east-1' }));

  it('rounds money to micro-dollars and percentages to 2 decimals', () => {
    expect(json.fleets[0].weeklyCost).toBe(1.07264);
    expect(json.fleets[0].savingsPercent).toBe(96.67);
  });
});

describe('the table report', () => {
  const text = renderCostReport(report, 'table', { configFile: 'fleet.config.yaml' });
  const lines = text.split('\n');

  it('prints the price source and its date', () => expect(text).toContain('Prices: snapshot 2026-01-01:'));

  it('prints a line per lever', () => {
    const header = lines.find((l) => l.startsWith('Fleet') && l.includes('Schedule'));
    expect(header?.split(/\s{2,}/)).toEqual(['Fleet', 'Schedule', 'Spot', 'Graviton', 'Total saved/wk', 'Saved']);
  });

  it('aligns columns: every row of a table is as wide as its dashed rule', () => {
    const rule = lines.findIndex((l) => /^-+( +-+)+$/.test(l));
    const width = lines[rule].length;
    for (const row of lines.slice(rule + 1, rule + 4)) expect(row.length).toBeLessThanOrEqual(width);
    expect(lines[rule + 1].indexOf('$')).toBeGreaterThan(0);
  });

  it('shows money with the currency', () => expect(lines.find((l) => l.startsWith('arm-spot'))).toContain('$1.07'));

  it('says which week it counts', () => expect(text).toContain('Hours: a typical week (no DST change)'));
});

describe('the markdown report', () => {
  const text = renderCostReport(report, 'markdown');

  it('renders each section as a GitHub table with right-aligned numbers', () => {
    expect(text).toContain('| Fleet | Schedule | Spot | Graviton | Total saved/wk | Saved |');
    expect(text).toContain('| --- | ---: | ---: | ---: | ---: | ---: |');
  });

  it('puts the total row in bold', () => expect(text).toMatch(/\| \*\*Total\*\* \| \*\*\$/));
});

describe('money', () => {
  it.each([
    [1664, '$1,664.00'],
    [-0.123, '-$0.12'],
    [-0.001, '$0.00'],
  ])('formats %s as %s', (value, expected) => expect(usd(value)).toBe(expected));
});
