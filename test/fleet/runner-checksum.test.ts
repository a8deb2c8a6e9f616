/**
 * The runner binary's SHA-256 from the config to the user data: a fleet's runnerSha256 or the
 * repository's pin for the version, and a synth warning when neither exists.
 */
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseFleetConfig } from '../../lib/config';
import { ARCHITECTURES } from '../../lib/config/instance-types';
import { DEFAULT_RUNNER_VERSION, pinnedRunnerSha256, RUNNER_BINARY_SHA256 } from '../../lib/config/schema';
import { buildFleet, fleetSpec, rawFleet, TEST_GITLAB } from '../support/stack-helpers';

const SHA = 'ab'.repeat(32);

function userDataOf(overrides: Record<string, unknown>): string {
  const { fleet } = buildFleet(overrides);
  return Stack.of(fleet).resolve(fleet.launchTemplate.userData!.render()) as string;
}

describe('runnerSha256 in the config', () => {
  it('is kept for the fleet when given', () => {
    expect(fleetSpec({ runnerSha256: SHA }).runnerSha256).toBe(SHA);
  });

  it('defaults to the pin of the repository for the version and architecture (none for an unpinned version)', () => {
    const spec = fleetSpec({ runnerVersion: '17.0.0' });
    expect(spec.runnerSha256).toBe(pinnedRunnerSha256('17.0.0', 'arm64'));
    expect(spec.runnerSha256).toBeUndefined();
  });

  it.each(['AB'.repeat(32), 'ab'.repeat(31), 'zz'.repeat(32)])('rejects %s, naming the field and the format', (value) => {
    let error: unknown;
    try {
      parseFleetConfig({ gitlab: { url: TEST_GITLAB.url }, fleets: [rawFleet({ runnerSha256: value })] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      /fleets\[0\]\.runnerSha256: "[^"]*" must be a SHA-256 in lowercase hex \(64 characters\)/,
    );
  });
});

describe('the pin table beside DEFAULT_RUNNER_VERSION', () => {
  it('holds only well-formed entries: a release version, known architectures, 64 lowercase hex digits', () => {
    for (const [version, byArchitecture] of Object.entries(RUNNER_BINARY_SHA256)) {
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
      for (const [architecture, sha] of Object.entries(byArchitecture)) {
        expect(ARCHITECTURES).toContain(architecture);
        expect(sha).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('pins both architectures of the default version whenever it pins one', () => {
    const pins = RUNNER_BINARY_SHA256[DEFAULT_RUNNER_VERSION];
    if (pins) expect(Object.keys(pins).sort()).toEqual([...ARCHITECTURES].sort());
    else expect(pinnedRunnerSha256(DEFAULT_RUNNER_VERSION, 'arm64')).toBeUndefined();
  });
});

describe('RunnerFleet and the runner checksum', () => {
  it('renders the pinned SHA-256 into the user data parameters', () => {
    expect(userDataOf({ runnerSha256: SHA })).toContain(`GRF_RUNNER_SHA256='${SHA}'`);
  });

  it('renders an empty SHA-256 when nothing is pinned, and warns that the checksum comes from the download host', () => {
    const { fleet } = buildFleet({ runnerVersion: '17.0.0' });

    expect(Stack.of(fleet).resolve(fleet.launchTemplate.userData!.render())).toContain("GRF_RUNNER_SHA256=''");
    Annotations.fromStack(Stack.of(fleet)).hasWarning(
      '/TestStack/Fleet',
      Match.stringLikeRegexp('no SHA-256 is pinned for GitLab Runner 17\\.0\\.0 \\(arm64\\).*Set fleet\\.runnerSha256'),
    );
  });

  it('does not warn when the fleet pins its binary', () => {
    const { fleet } = buildFleet({ runnerSha256: SHA });

    Annotations.fromStack(Stack.of(fleet)).hasNoWarning('/TestStack/Fleet', Match.stringLikeRegexp('no SHA-256 is pinned'));
  });

  it('rejects a malformed runnerSha256 when the construct is used without the YAML', () => {
    expect(() => buildFleet({}, { fleet: { ...fleetSpec(), runnerSha256: 'not-a-hash' } })).toThrow(
      /fleet\.runnerSha256 \(not-a-hash\) must be a SHA-256 in lowercase hex/,
    );
  });
});
