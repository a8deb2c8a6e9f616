import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../lib/cost/estimate';
import { snapshotPriceBook } from '../../lib/cost/price-book';
import { renderCostReport } from '../../lib/cost/report-text';
import { configWith } from './helpers';

const prices = snapshotPriceBook('us-east-1');

describe('cost report: the spot fallback price assumption', () => {
  it('states that spot hours assume capacity and that fallback hours would be on-demand at the first type, per spot fleet', () => {
    const report = estimateCost(configWith({ name: 'arm-spot', instanceTypes: ['m6g.large', 'm7g.large'] }), { prices });

    const text = renderCostReport(report, 'table');

    expect(text).toContain('Spot fallback: spot hours assume spot capacity is available.');
    expect(text).toContain('at the on-demand price of the first configured type: arm-spot (m6g.large)');
  });

  it('says nothing about a fallback when every fleet is on-demand', () => {
    const report = estimateCost(configWith({ name: 'steady', computeType: 'on-demand' }), { prices });

    expect(renderCostReport(report, 'markdown')).not.toContain('Spot fallback');
  });
});
