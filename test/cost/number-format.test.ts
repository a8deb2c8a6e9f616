import { describe, expect, it } from 'vitest';
import { hours, usd } from '../../lib/cost/report-text';

describe('report number formats (written out, as en-US Intl formats them)', () => {
  const reference = (value: number, min: number, max: number) =>
    value.toLocaleString('en-US', { minimumFractionDigits: min, maximumFractionDigits: max });

  it.each([0, 0.004, 0.005, 0.12, 1, 12.5, 999.995, 1000, 1234.5678, 1_664, 98_765_432.1])('formats %d USD like Intl', (value) => {
    expect(usd(value)).toBe(`$${reference(Number(value.toFixed(2)), 2, 2)}`);
    expect(usd(-value)).toBe(Number(value.toFixed(2)) === 0 ? '$0.00' : `-$${reference(Number(value.toFixed(2)), 2, 2)}`);
    expect(usd(value, 0)).toBe(`$${reference(Number(value.toFixed(0)), 0, 0)}`);
  });

  it.each([0, 0.25, 1, 12.5, 50, 123.456, 1234.25, 10_080])('formats %d hours like Intl', (value) => {
    expect(hours(value)).toBe(reference(value, 1, 2));
  });
});
