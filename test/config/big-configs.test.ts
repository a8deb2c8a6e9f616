import { describe, expect, it } from 'vitest';
import { ConfigError, parseFleetConfig, parseFleetConfigText } from '../../lib/config';

/** 1,000 fleets sharing one schedule and one instance-type list by YAML alias, as users write big files. */
function aliasedYaml(fleets: number): string {
  return [
    'deployment: ci',
    'gitlab: { url: https://gitlab.example.com }',
    'fleets:',
    "  - { name: fleet-0, computeType: spot, instanceTypes: &types [m7g.large, m6g.large], capacity: { max: 2 }, schedule: &schedule { timeZone: Europe/Berlin, windows: [{ days: mon-fri, start: '08:00', end: '18:00' }] } }",
    ...Array.from(
      { length: fleets - 1 },
      (_, i) => `  - { name: fleet-${i + 1}, computeType: spot, instanceTypes: *types, capacity: { max: 2 }, schedule: *schedule }`,
    ),
  ].join('\n');
}

function problems(text: string): string[] {
  try {
    parseFleetConfigText(text, 'big.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('big configurations', () => {
  it('loads 1,000 fleets that share a schedule and instance types by alias (2,000 aliases)', () => {
    // GIVEN 1,998 aliases, far above the YAML library's default budget of 100
    const text = aliasedYaml(1000);

    // WHEN it is loaded
    const config = parseFleetConfigText(text, 'big.yaml');

    // THEN every fleet has the shared values
    expect(config.fleets).toHaveLength(1000);
    expect(config.fleets[999].instanceTypes).toEqual(['m7g.large', 'm6g.large']);
    expect(config.fleets[999].schedule?.timeZone).toBe('Europe/Berlin');
  });

  it('turns an alias bomb into one config problem, not a stack trace', () => {
    // GIVEN the classic nested-alias expansion: each level repeats the one before nine times
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }

    // WHEN / THEN the problem is one line naming the budget
    const found = problems(`${levels.join('\n')}\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^: YAML aliases expand to more than this document's budget \(\d+ alias resolutions, \d+ values\)/);
    expect(found[0]).not.toContain('\n');
  });

  it('requires a deployment name above 30 fleets, naming the key and the count', () => {
    const raw = {
      gitlab: { url: 'https://gitlab.example.com' },
      fleets: Array.from({ length: 31 }, (_, i) => ({
        name: `fleet-${i}`,
        computeType: 'spot',
        instanceTypes: ['m7g.large'],
        capacity: { max: 1 },
      })),
    };

    expect(() => parseFleetConfig(raw, 'big.yaml')).toThrow(/deployment: is required above 30 fleets \(this config has 31\)/);
  });

  it('accepts 30 fleets without a deployment name, with the names they always had', () => {
    const raw = {
      gitlab: { url: 'https://gitlab.example.com' },
      fleets: Array.from({ length: 30 }, (_, i) => ({
        name: `fleet-${i}`,
        computeType: 'spot',
        instanceTypes: ['m7g.large'],
        capacity: { max: 1 },
      })),
    };

    const config = parseFleetConfig(raw, 'big.yaml');
    expect(config.deployment).toBeUndefined();
    expect(config.fleets[0].runnerTokenSecretName).toBe('gitlab-runner-fleet/fleet-0/runner-token');
  });

  it('rejects a malformed deployment name, naming the key', () => {
    const raw = {
      deployment: 'Team--A',
      gitlab: { url: 'https://gitlab.example.com' },
      fleets: [{ name: 'fleet-0', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 1 } }],
    };

    expect(() => parseFleetConfig(raw, 'big.yaml')).toThrow(/deployment: must be a-z and 0-9 in words joined by single hyphens/);
  });
});

describe('JSON configs', () => {
  const fleet = { name: 'alpha', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 1 } };

  it('reads JSON text to the same config the YAML parser gives', () => {
    const raw = { gitlab: { url: 'https://gitlab.example.com' }, fleets: [fleet, { ...fleet, name: 'beta' }] };
    const json = JSON.stringify(raw, null, 2);

    expect(parseFleetConfigText(json)).toEqual(parseFleetConfigText(`# as YAML\n${json}`));
  });

  it('still reports a key named twice in one JSON object, as in YAML', () => {
    const json = `{"gitlab": {"url": "https://gitlab.example.com"}, "fleets": [${JSON.stringify(fleet).replace('"name":"alpha"', '"name":"alpha","name":"beta"')}]}`;

    expect(problems(json)).toEqual([expect.stringMatching(/^: YAML syntax error at line \d+, column \d+: map keys must be unique/)]);
  });

  it('does not mistake equal keys of different objects, or escaped text, for a repeated key', () => {
    const json = JSON.stringify({
      gitlab: { url: 'https://gitlab.example.com' },
      fleets: [fleet, { ...fleet, name: 'b\\"eta"'.replace(/[\\"]/g, '') }],
      awsTags: { 'a"b': 'x', 'a\\b': 'y', name: 'z' },
    });

    expect(parseFleetConfigText(json).awsTags).toEqual({ 'a"b': 'x', 'a\\b': 'y', name: 'z' });
  });
});
