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

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  }
  throw new Error('expected the config to be rejected');
}

const window = (extra: Record<string, unknown> = {}) => ({ days: 'mon-fri', start: '08:00', end: '18:00', ...extra });

describe('loading a config file: read and YAML problems', () => {
  it('reports the read error of a path that is not a file, not "file not found"', () => {
    // GIVEN a directory where a file is expected
    const dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));

    // WHEN it is loaded THEN the OS reason is reported against that path
    const problems = problemsOf(() => loadFleetConfig(dir));
    expect(problems).toEqual([`is a folder, not a file; pass the config file inside it, e.g. --config ${dir}/fleet.config.yaml`]);
  });

  it('rejects a YAML mapping with a duplicate key instead of silently keeping the last value', () => {
    const text = 'gitlab:\n  url: https://a.example.com\ngitlab:\n  url: https://b.example.com\nfleets: []\n';

    expect(problemsOf(() => parseFleetConfigText(text, 'dup.yaml'))).toEqual([
      'YAML syntax error at line 3, column 1: map keys must be unique',
    ]);
  });

  it('names the source file in the error message', () => {
    expect(() => parseFleetConfigText('gitlab: [unclosed', 'team/fleet.yaml')).toThrow(/^team\/fleet\.yaml: YAML syntax error at line 1/);
  });

  it('rejects a file whose root is a list, asking for an object', () => {
    expect(problemsOf(() => parseFleetConfigText('- a\n- b\n'))).toEqual([
      'the file must hold settings such as gitlab: and fleets:, but holds a list',
    ]);
  });

  it('rejects a file whose root is a plain string', () => {
    expect(problemsOf(() => parseFleetConfigText('just text'))).toEqual([
      'the file must hold settings such as gitlab: and fleets:, but holds the single value "just text"',
    ]);
  });

  it('rejects an empty file', () => {
    expect(problemsOf(() => parseFleetConfigText(''))).toEqual([
      'the file is empty (nothing but blank lines or comments); start from fleet.config.yaml or a file in examples/',
    ]);
  });

  it('loads a valid file from disk', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fleet-config-')), 'fleet.yaml');
    writeFileSync(file, JSON.stringify(config()));

    expect(loadFleetConfig(file).fleets.map((f) => f.name)).toEqual(['arm-spot']);
  });
});

describe('validating a config: nested keys and types', () => {
  it('rejects an unknown key inside a schedule window, listing the window keys', () => {
    const raw = config({ schedule: { timeZone: 'UTC', windows: [window({ desird: 2 })] } });

    expect(problemsOf(() => parseFleetConfig(raw))).toEqual([
      'fleets[0].schedule.windows[0].desird: unknown key; allowed here: days, start, end, desired',
    ]);
  });

  it('rejects an unknown key inside network, listing the network keys', () => {
    const raw = config({ network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'], subnet: 'x' } });

    expect(problemsOf(() => parseFleetConfig(raw))).toEqual([
      'fleets[0].network.subnet: unknown key; allowed here: vpcId, subnetIds, availabilityZones',
    ]);
  });

  it('names an object expected where a scalar was given, with "an"', () => {
    expect(problemsOf(() => parseFleetConfig(config({ capacity: 'four' })))).toEqual(['fleets[0].capacity: "four" must be an object']);
  });

  it('names an array expected where a string was given', () => {
    expect(problemsOf(() => parseFleetConfig(config({ instanceTypes: 'm7g.large' })))).toEqual([
      'fleets[0].instanceTypes: "m7g.large" must be an array',
    ]);
  });

  it('asks for a whole number for a fractional concurrency', () => {
    expect(problemsOf(() => parseFleetConfig(config({ concurrency: 1.5 })))).toEqual(['fleets[0].concurrency: 1.5 must be a whole number']);
  });

  it('reports wrong types inside a schedule window', () => {
    const raw = config({ schedule: { timeZone: 'UTC', windows: [window({ start: 8, desired: 'x' })] } });

    expect(problemsOf(() => parseFleetConfig(raw))).toEqual([
      'fleets[0].schedule.windows[0].desired: "x" must be a number',
      'fleets[0].schedule.windows[0].start: 8 must be a string',
    ]);
  });

  it('rejects a window that is not a mapping', () => {
    const raw = config({ schedule: { timeZone: 'UTC', windows: ['mon', window()] } });

    expect(problemsOf(() => parseFleetConfig(raw))).toEqual(['fleets[0].schedule.windows[0]: "mon" must be an object']);
  });

  it('rejects fleets that are not mappings, one problem each', () => {
    expect(problemsOf(() => parseFleetConfig(config({}, { fleets: [null, 3] })))).toEqual([
      'fleets[0]: null must be an object',
      'fleets[1]: 3 must be an object',
    ]);
  });

  it('rejects fleets given as a string', () => {
    expect(problemsOf(() => parseFleetConfig(config({}, { fleets: 'none' })))).toEqual(['fleets: "none" must be an array']);
  });

  it('rejects a non-string aws tag value', () => {
    expect(problemsOf(() => parseFleetConfig(config({}, { awsTags: { team: 1 } })))).toEqual(['awsTags.team: 1 must be a string']);
  });

  it('passes the schema message through for a malformed cost region', () => {
    expect(problemsOf(() => parseFleetConfig(config({}, { cost: { region: 'Frankfurt' } })))).toEqual([
      'cost.region: "Frankfurt" must be an AWS region such as us-east-1',
    ]);
  });

  it('requires one availability zone per subnet', () => {
    const network = {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'],
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    };

    expect(problemsOf(() => parseFleetConfig(config({ network })))).toEqual([
      'fleets[0].network.availabilityZones: must list one AZ per subnetIds entry, in the same order',
    ]);
  });
});

describe('validating a config: messages', () => {
  it('lists the price keys for an unknown key inside a cost.prices entry', () => {
    // GIVEN a price entry with a key the schema does not know
    const raw = config({}, { cost: { prices: { 'm7g.large': { onDemand: 0.1, reserved: 0.05 } } } });

    // THEN the message lists the keys a price entry accepts
    expect(problemsOf(() => parseFleetConfig(raw))).toEqual(['cost.prices.m7g.large.reserved: unknown key; allowed here: onDemand, spot']);
  });

  it('says a missing nested field is required and what type it takes', () => {
    expect(problemsOf(() => parseFleetConfig(config({}, { gitlab: {} })))).toEqual(['gitlab.url: is required (a string)']);
  });

  it('keeps two problems of the same field in the order they were found', () => {
    // GIVEN an x86 type listed twice in an arm64 fleet: wrong architecture and duplicate at the same index
    const raw = config({ instanceTypes: ['m7g.large', 'c5.large', 'c5.large'] });

    expect(problemsOf(() => parseFleetConfig(raw))).toEqual([
      'fleets[0].instanceTypes[1]: c5.large is x86_64, fleet architecture is arm64',
      'fleets[0].instanceTypes[2]: c5.large is x86_64, fleet architecture is arm64',
      'fleets[0].instanceTypes[2]: c5.large is listed twice',
    ]);
  });

  it('sorts problems by path with array indexes compared as numbers', () => {
    // GIVEN bad instance types at index 2 and index 10
    const types = [
      'm7g.large',
      'm6g.large',
      'nope',
      ...Array.from({ length: 7 }, (_, i) => `m7g.${['medium', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'][i]}`),
      'bad',
    ];

    const paths = problemsOf(() => parseFleetConfig(config({ instanceTypes: types }))).map((p) => p.split(':')[0]);

    expect(paths).toEqual(['fleets[0].instanceTypes[2]', 'fleets[0].instanceTypes[10]']);
  });
});
