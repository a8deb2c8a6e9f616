import { describe, expect, it } from 'vitest';
import { ConfigError, parseFleetConfig, spotFallbackOf } from '../../lib/config';

function config(fleet: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    gitlab: { url: 'https://gitlab.example.com' },
    fleets: [{ name: 'arm-spot', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 4 }, ...fleet }],
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

describe('spotFallback configuration', () => {
  it('is on for a spot fleet by default, after 10 minutes short, back after 60 quiet minutes', () => {
    expect(parseFleetConfig(config()).fleets[0].spotFallback).toEqual({ enabled: true, afterMinutes: 10, returnAfterMinutes: 60 });
  });

  it('is off for an on-demand fleet', () => {
    expect(parseFleetConfig(config({ computeType: 'on-demand' })).fleets[0].spotFallback).toMatchObject({ enabled: false });
  });

  it('takes each setting from the file', () => {
    const fleet = parseFleetConfig(config({ spotFallback: { enabled: false, afterMinutes: 0, returnAfterMinutes: 120 } })).fleets[0];

    expect(fleet.spotFallback).toEqual({ enabled: false, afterMinutes: 0, returnAfterMinutes: 120 });
  });

  it('keeps enabled on by default when only the timings are given', () => {
    expect(parseFleetConfig(config({ spotFallback: { afterMinutes: 3 } })).fleets[0].spotFallback).toEqual({
      enabled: true,
      afterMinutes: 3,
      returnAfterMinutes: 60,
    });
  });

  it('rejects turning it on for an on-demand fleet, naming the field', () => {
    expect(problemsOf(config({ computeType: 'on-demand', spotFallback: { enabled: true } }))).toEqual([
      'fleets[0].spotFallback.enabled: only applies to spot fleets; an on-demand fleet has no spot capacity to fall back from',
    ]);
  });

  it('rejects timings out of bounds and unknown keys, all at once', () => {
    const problems = problemsOf(config({ spotFallback: { afterMinutes: -1, returnAfterMinutes: 1, after: 5 } }));

    expect(problems).toEqual([
      'fleets[0].spotFallback.after: unknown key; allowed here: enabled, afterMinutes, returnAfterMinutes',
      'fleets[0].spotFallback.afterMinutes: -1 must be at least 0',
      'fleets[0].spotFallback.returnAfterMinutes: 1 must be at least 5',
    ]);
  });

  it('resolves defaults for hand-built fleet specs without the field', () => {
    expect(spotFallbackOf({ computeType: 'spot' })).toEqual({ enabled: true, afterMinutes: 10, returnAfterMinutes: 60 });
    expect(
      spotFallbackOf({ computeType: 'on-demand', spotFallback: { enabled: true, afterMinutes: 1, returnAfterMinutes: 5 } }).enabled,
    ).toBe(false);
  });
});
