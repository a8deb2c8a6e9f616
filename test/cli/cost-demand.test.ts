import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costCommandOutput } from '../../lib/cli/cost-command';
import { CostError } from '../../lib/cost/errors';
import { demandJobs, parseExpectedDemand } from '../../lib/cost/demand';

const quiet = { out: () => {}, err: () => {} };
const OFFICE = {
  jobMinutes: 10,
  jobsPerHour: { weekdays: [0, 0, 0, 0, 0, 0, 0, 0, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 0, 0, 0, 0, 0, 0], weekends: 0 },
};

describe('runner-fleet cost --demand', () => {
  it('prices demand scaling against the schedule alone and always-on, as JSON', async () => {
    const json = JSON.parse(
      await costCommandOutput({ config: 'fleet.config.yaml', format: 'json', demand: JSON.stringify(OFFICE) }, quiet),
    );
    const spot = json.demand.fleets.find((f: { name: string }) => f.name === 'graviton-spot');
    // 12 jobs of 10 min an hour need 2 of 10 slots: one warm instance instead of the scheduled two
    expect(spot.demandInstanceHours).toBeLessThan(spot.scheduleInstanceHours);
    expect(spot.demandWeeklyCost).toBeLessThan(spot.scheduleWeeklyCost);
    expect(spot.alwaysOnWeeklyCost).toBeGreaterThan(spot.scheduleWeeklyCost);
    expect(spot.jobsNeverStarted).toBe(0);
    expect(json.demand.demandWeeklyCost).toBeCloseTo(json.total.weeklyCost, 6);
  });

  it('reads the demand from a YAML file and appends the comparison to the table', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'demand-')), 'demand.yaml');
    writeFileSync(file, 'jobMinutes: 10\njobsPerHour:\n  weekdays: 6\n');

    const text = await costCommandOutput({ config: 'fleet.config.yaml', format: 'table', demand: file }, quiet);

    expect(text).toMatch(/Weekly cost with the expected demand[\s\S]*graviton-spot\s+\$\d+\.\d\d\s+\$\d+\.\d\d\s+\$\d+\.\d\d/);
  });

  it('without --demand, the report is unchanged', async () => {
    const text = await costCommandOutput({ config: 'fleet.config.yaml', format: 'table' }, quiet);
    expect(text).not.toContain('expected demand');
  });
});

describe('parseExpectedDemand', () => {
  it('reports every problem by path', () => {
    expect(() => parseExpectedDemand({ jobMinutes: 0, jobsPerHour: { funday: 1, mon: [1, 2] } })).toThrow(CostError);
    expect(() => parseExpectedDemand({ jobMinutes: 0, jobsPerHour: { funday: 1, mon: [1, 2] } })).toThrow(
      /jobMinutes must be[\s\S]*jobsPerHour\.funday is not a day[\s\S]*jobsPerHour\.mon must be a number or a list of 24/,
    );
  });

  it('spreads each hour of jobs evenly across it, Monday 00:00 first', () => {
    const jobs = demandJobs(parseExpectedDemand({ jobMinutes: 5, jobsPerHour: { mon: [2, ...new Array(23).fill(0)] } }));
    expect(jobs).toEqual([
      { arrival: 900, durationSeconds: 300 },
      { arrival: 2700, durationSeconds: 300 },
    ]);
  });
});
