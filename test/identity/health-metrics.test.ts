import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLEET_METRIC_NAMESPACE } from '../../lib/identity/fleet-metrics';
import { HEALTH_DURATION_METRICS, HEALTH_METRICS } from '../../lib/identity/health-metrics';

const INSTANCE_DIR = join(__dirname, '..', '..', 'lib', 'fleet', 'instance');
const scripts = readdirSync(INSTANCE_DIR)
  .filter((f) => f.endsWith('.sh'))
  .map((f) => [f, readFileSync(join(INSTANCE_DIR, f), 'utf8')] as const);

describe('fleet health metric names', () => {
  it('given the instance scripts, when they publish a metric, then its name is one of HEALTH_METRICS', () => {
    const published = scripts.flatMap(([, text]) => [...text.matchAll(/^\s*(?:if .*then )?publish_metric (\w+) /gm)].map((m) => m[1]));
    expect(published.length).toBeGreaterThanOrEqual(6);
    expect(published.filter((name) => !(Object.values(HEALTH_METRICS) as string[]).includes(name))).toEqual([]);
  });

  it('given the scripts publish durations, when their unit is given, then the duration metrics are in Seconds', () => {
    for (const name of HEALTH_DURATION_METRICS) {
      const calls = scripts.flatMap(([, text]) => text.split('\n').filter((line) => line.includes(`publish_metric ${name} `)));
      expect(calls.length, name).toBeGreaterThan(0);
      for (const call of calls) expect(call.trim().endsWith(' Seconds'), call).toBe(true);
    }
  });

  it('publishes from the scripts into the fleet namespace of lib/identity', () => {
    const common = scripts.find(([f]) => f === 'common.sh')![1];
    expect(common).toContain(`--namespace ${FLEET_METRIC_NAMESPACE} `);
    expect(common).toContain('--dimensions "Fleet=$GRF_FLEET_NAME"');
  });
});
