import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationReference } from '../../lib/config/config-reference';

describe('the configuration reference (docs/configuration.md)', () => {
  const generated = configurationReference();

  it('is committed and current with the zod schema (run `npm run schema` after changing it)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(generated);
  });

  it('lists defaults and bounds, e.g. concurrency <= 100 and capacity.max <= 1000', () => {
    expect(generated).toContain('- `fleets[].concurrency`: whole number, 1 to 100, default `4`.');
    expect(generated).toContain('- `fleets[].capacity.max`: whole number, 1 to 1000, **required**.');
    expect(generated).toContain('- `orphanReaper.graceMinutes`: whole number, 5 to 1440, default `30`.');
    expect(generated).toContain('- `cost.prices.<instance type>.spot`: number, > 0 and <= 1000, optional.');
  });

  it('lists every key of a fleet, nested ones included', () => {
    for (const key of [
      'name',
      'computeType',
      'capacity.min',
      'schedule.windows[].days',
      'schedule.maxJitterMinutes',
      'network.subnetIds',
    ]) {
      expect(generated).toContain(`\`fleets[].${key}\``);
    }
  });
});
