import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadFleetConfig, parseFleetConfig, parseFleetConfigText } from '../../lib/config';

/** A minimal valid config; tests override one thing at a time. */
function config(fleet: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    gitlab: { url: 'https://gitlab.example.com' },
    fleets: [{ name: 'arm-spot', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 4 }, ...fleet }],
    ...top,
  };
}

function problemsOf(raw: unknown): string[] {
  try {
    parseFleetConfig(raw, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('loading a fleet configuration', () => {
  it('resolves every default for a minimal fleet', () => {
    // GIVEN a fleet with only the required fields
    // WHEN it is parsed
    const { fleets, orphanReaper, awsTags } = parseFleetConfig(config());
    // THEN the documented defaults apply
    expect(fleets[0]).toMatchObject({
      architecture: 'arm64',
      concurrency: 4,
      capacity: { min: 0, max: 4, desired: 1 },
      onDemandBase: 0,
      executor: 'docker',
      volumeSizeGiB: 40,
      maxJobTimeoutMinutes: 60,
      minHealthyPercentage: 50,
      runnerTokenSecretName: 'gitlab-runner-fleet/arm-spot/runner-token',
      runnerTags: ['computetype-spot', 'arm64'],
    });
    expect(fleets[0].runnerVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(fleets[0].schedule).toBeUndefined();
    expect(fleets[0].network).toBeUndefined();
    expect(orphanReaper.enabled).toBe(false);
    expect(awsTags).toEqual({});
  });

  it('keeps every override', () => {
    const { fleets } = parseFleetConfig(
      config({
        computeType: 'on-demand',
        architecture: 'x86_64',
        instanceTypes: ['m7i.large', 'c5.xlarge'],
        concurrency: 8,
        capacity: { min: 1, max: 6, desired: 3 },
        executor: 'shell',
        runnerTags: ['deploy', 'deploy'],
        volumeSizeGiB: 100,
        runnerTokenSecretName: 'team-a/runner',
        maxJobTimeoutMinutes: 180,
        runnerVersion: '17.11.3',
        minHealthyPercentage: 75,
        network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] },
      }),
    );
    expect(fleets[0]).toMatchObject({
      computeType: 'on-demand',
      architecture: 'x86_64',
      instanceTypes: ['m7i.large', 'c5.xlarge'],
      concurrency: 8,
      capacity: { min: 1, max: 6, desired: 3 },
      executor: 'shell',
      runnerTags: ['computetype-ondemand', 'x86_64', 'deploy'],
      volumeSizeGiB: 100,
      runnerTokenSecretName: 'team-a/runner',
      maxJobTimeoutMinutes: 180,
      runnerVersion: '17.11.3',
      minHealthyPercentage: 75,
      network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] },
    });
  });

  it('normalizes a schedule: day expressions, window desired defaulting to capacity.desired, name-derived jitter', () => {
    const { fleets } = parseFleetConfig(
      config({
        capacity: { max: 4, desired: 2 },
        schedule: {
          timeZone: 'Europe/Berlin',
          windows: [
            { days: 'mon-fri', start: '08:00', end: '18:00' },
            { days: ['sat'], start: '10:00', end: '12:00', desired: 1 },
          ],
        },
      }),
    );
    const schedule = fleets[0].schedule!;
    expect(schedule.timeZone).toBe('Europe/Berlin');
    expect(schedule.windows).toEqual([
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00', desired: 2 },
      { days: ['sat'], start: '10:00', end: '12:00', desired: 1 },
    ]);
    expect(schedule.maxJitterMinutes).toBe(9);
    expect(schedule.jitterMinutes).toBeGreaterThanOrEqual(1);
    expect(schedule.jitterMinutes).toBeLessThanOrEqual(9);
  });

  it('strips a trailing slash from the GitLab URL', () => {
    expect(parseFleetConfig(config({}, { gitlab: { url: 'https://gitlab.com/' } })).gitlab.url).toBe('https://gitlab.com');
  });

  it('reads YAML files, and JSON as YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));
    const yamlFile = join(dir, 'fleet.yaml');
    writeFileSync(
      yamlFile,
      'gitlab: {url: "https://gitlab.com"}\nfleets:\n  - {name: a1, computeType: spot, instanceTypes: [t4g.large], capacity: {max: 1}}\n',
    );
    const jsonFile = join(dir, 'fleet.json');
    writeFileSync(jsonFile, JSON.stringify(config()));
    expect(loadFleetConfig(yamlFile).fleets[0].name).toBe('a1');
    expect(loadFleetConfig(jsonFile).fleets[0].name).toBe('arm-spot');
  });

  it('loads the bundled fleet.config.yaml: a Graviton spot fleet and a Graviton on-demand fleet', () => {
    const { fleets, orphanReaper } = loadFleetConfig('fleet.config.yaml');
    expect(fleets.map((f) => [f.computeType, f.architecture])).toEqual([
      ['spot', 'arm64'],
      ['on-demand', 'arm64'],
    ]);
    expect(orphanReaper.enabled).toBe(true);
  });
});

describe('rejecting bad configurations', () => {
  it('names a missing file', () => {
    expect(() => loadFleetConfig('/nonexistent/fleet.yaml')).toThrow(
      /^\/nonexistent\/fleet.yaml: file not found; pass the path of your config with --config <file>/,
    );
  });

  it('reports YAML syntax errors as config errors', () => {
    expect(() => parseFleetConfigText('gitlab: [unclosed', 'broken.yaml')).toThrow(ConfigError);
  });

  it('rejects an instance type of the wrong architecture, naming the type and both architectures', () => {
    expect(problemsOf(config({ instanceTypes: ['m7g.large', 'c5.large'] }))).toEqual([
      'fleets[0].instanceTypes[1]: c5.large is x86_64, fleet architecture is arm64',
    ]);
  });

  it('rejects Graviton types in an x86_64 fleet', () => {
    expect(problemsOf(config({ architecture: 'x86_64', instanceTypes: ['m7g.large'] }))).toEqual([
      'fleets[0].instanceTypes[0]: m7g.large is arm64, fleet architecture is x86_64',
    ]);
  });

  it('rejects names that are not instance types', () => {
    expect(problemsOf(config({ instanceTypes: ['large'] }))[0]).toMatch(
      /^fleets\[0\]\.instanceTypes\[0\]: "large" is not a supported EC2 instance type/,
    );
  });

  it('rejects duplicate fleet names, pointing at the second', () => {
    const raw = config();
    (raw.fleets as unknown[]).push({ name: 'arm-spot', computeType: 'on-demand', instanceTypes: ['m7g.large'], capacity: { max: 1 } });
    expect(problemsOf(raw)).toEqual(['fleets[1].name: "arm-spot" is already the name of fleets[0]; fleet names must be unique']);
  });

  it('rejects unknown keys at every level, listing the allowed ones', () => {
    const problems = problemsOf(config({ instanceType: 'm7g.large', capacity: { max: 4, maximum: 5 } }, { gitlb: {} }));
    expect(problems).toContainEqual(expect.stringMatching(/^gitlb: unknown key; allowed here: gitlab, orphanReaper, awsTags, fleets/));
    expect(problems).toContainEqual(
      expect.stringMatching(/^fleets\[0\]\.instanceType: unknown key; allowed here: name, computeType, .*instanceTypes/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^fleets\[0\]\.capacity\.maximum: unknown key; allowed here: min, max, desired$/),
    );
  });

  it('rejects an unknown time zone', () => {
    const problems = problemsOf(
      config({ schedule: { timeZone: 'Europe/Atlantis', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] } }),
    );
    expect(problems).toEqual([
      'fleets[0].schedule.timeZone: "Europe/Atlantis" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)',
    ]);
  });

  it('rejects abbreviations that are not IANA zone names', () => {
    expect(problemsOf(config({ schedule: { timeZone: 'CET', windows: [{ days: 'mon', start: '08:00', end: '18:00' }] } }))[0]).toMatch(
      /schedule\.timeZone: "CET" is not an IANA time zone/,
    );
  });

  it('rejects max < min', () => {
    expect(problemsOf(config({ capacity: { min: 3, max: 2, desired: 2 } }))).toEqual([
      'fleets[0].capacity.min: min (3) must be <= max (2)',
    ]);
  });

  it('rejects desired outside min..max', () => {
    expect(problemsOf(config({ capacity: { min: 0, max: 2, desired: 5 } }))).toEqual([
      'fleets[0].capacity.desired: desired (5) must be between min (0) and max (2)',
    ]);
  });

  it('rejects a non-https GitLab URL', () => {
    expect(problemsOf(config({}, { gitlab: { url: 'http://gitlab.example.com' } }))).toEqual(['gitlab.url: must be an https:// URL']);
  });

  it('rejects an unknown compute type, listing the allowed values', () => {
    expect(problemsOf(config({ computeType: 'preemptible' }))).toEqual([
      'fleets[0].computeType: "preemptible" is not allowed; allowed: "spot", "on-demand"',
    ]);
  });

  it('rejects an onDemandBase on an on-demand fleet and above max', () => {
    expect(problemsOf(config({ computeType: 'on-demand', onDemandBase: 1 }))).toEqual([
      'fleets[0].onDemandBase: only applies to spot fleets; an on-demand fleet is on-demand throughout',
    ]);
    expect(problemsOf(config({ onDemandBase: 9 }))).toEqual(['fleets[0].onDemandBase: onDemandBase (9) must be <= capacity.max (4)']);
  });

  it('rejects bad windows: day names, times, equal start and end, overlaps, desired above max', () => {
    const problems = problemsOf(
      config({
        schedule: {
          timeZone: 'UTC',
          windows: [
            { days: 'mon-fry', start: '08:00', end: '18:00' },
            { days: 'tue', start: '8:00', end: '25:00' },
            { days: 'wed', start: '09:00', end: '09:00' },
            { days: 'thu', start: '09:00', end: '10:00', desired: 9 },
          ],
        },
      }),
    );
    expect(problems).toEqual([
      'fleets[0].schedule.windows[0].days: "mon-fry" is not a day range; use e.g. mon-fri (days: mon, tue, wed, thu, fri, sat, sun)',
      'fleets[0].schedule.windows[1].end: "25:00" is not a time; use HH:MM from 00:00 to 24:00',
      'fleets[0].schedule.windows[1].start: "8:00" is not a time; use HH:MM from 00:00 to 23:59',
      'fleets[0].schedule.windows[2].end: start and end are equal; a window needs a length (use 00:00-24:00 for a whole day)',
      'fleets[0].schedule.windows[3].desired: desired (9) must be between capacity.min (0, the default) and capacity.max (4)',
    ]);
  });

  it('rejects overlapping windows, including one that crosses midnight into the next', () => {
    const problems = problemsOf(
      config({
        schedule: {
          timeZone: 'UTC',
          windows: [
            { days: 'sun', start: '22:00', end: '02:00' },
            { days: 'mon', start: '01:00', end: '05:00' },
          ],
        },
      }),
    );
    expect(problems).toEqual(['fleets[0].schedule.windows[1]: overlaps windows[0] on mon; windows must not overlap']);
  });

  it('reports every problem of every fleet at once, in file order', () => {
    const raw = {
      gitlab: { url: 'ftp://x' },
      fleets: [
        { name: 'Bad_Name', computeType: 'spot', instanceTypes: ['c5.large'], capacity: { max: 1 } },
        { name: 'ok-name', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { min: 2, max: 1 }, concurrency: 'ten' },
      ],
    };
    const problems = problemsOf(raw);
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'fleets[0].instanceTypes[0]',
      'fleets[0].name',
      'fleets[1].capacity.min',
      'fleets[1].concurrency',
      'gitlab.url',
    ]);
    expect(problems[3]).toBe('fleets[1].concurrency: "ten" must be a number');
  });

  it('says which field is missing', () => {
    expect(
      problemsOf({ gitlab: { url: 'https://gitlab.com' }, fleets: [{ name: 'a1', instanceTypes: ['m7g.large'], capacity: { max: 1 } }] }),
    ).toEqual(['fleets[0].computeType: is required (one of "spot", "on-demand")']);
  });
});
