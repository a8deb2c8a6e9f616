import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('the sample-day chart in docs/', () => {
  it('is an SVG rendered from the scaling function and current (run `npm run chart` after changing it)', async () => {
    const { renderSampleDay } = await import('../../scripts/sample-day-chart.mjs');
    const svg = await renderSampleDay();
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('queued jobs');
    expect(readFileSync('docs/scaling-sample-day.svg', 'utf8')).toBe(`${svg}\n`);
  }, 30_000);
});
