import { describe, expect, it } from 'vitest';
import { ConfigError, parseFleetConfig } from '../../lib/config';
import { fleetRunnerObjects } from '../../lib/config/fleet-config';

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

const ACCESS = 'gitlab-runner-fleet/access-token';

describe('gitlabRunner: fleets that own their GitLab runner', () => {
  it('defaults run-untagged off, not paused, not protected, and locks only project runners', () => {
    const group = parseFleetConfig(config({ gitlabRunner: { scope: 'group', group: 'org/team', accessTokenSecretName: ACCESS } }))
      .fleets[0];
    const project = parseFleetConfig(config({ gitlabRunner: { scope: 'project', project: 7, accessTokenSecretName: ACCESS } })).fleets[0];

    expect(group.managedRunner).toEqual({
      scope: 'group',
      namespace: 'org/team',
      accessTokenSecretName: ACCESS,
      runUntagged: false,
      locked: false,
      accessLevel: 'not_protected',
      paused: false,
    });
    expect(project.managedRunner).toMatchObject({ namespace: 7, locked: true });
  });

  it('takes every setting as configured', () => {
    const fleet = parseFleetConfig(
      config({
        gitlabRunner: {
          scope: 'instance',
          accessTokenSecretName: ACCESS,
          runUntagged: true,
          locked: true,
          accessLevel: 'ref_protected',
          paused: true,
        },
      }),
    ).fleets[0];

    expect(fleet.managedRunner).toMatchObject({
      scope: 'instance',
      namespace: undefined,
      runUntagged: true,
      locked: true,
      accessLevel: 'ref_protected',
      paused: true,
    });
  });

  it('gives a managed mixed fleet a second, on-demand token secret by default', () => {
    const fleet = parseFleetConfig(config({ onDemandBase: 1, gitlabRunner: { scope: 'instance', accessTokenSecretName: ACCESS } }))
      .fleets[0];

    expect(fleet.onDemandRunnerTokenSecretName).toBe('gitlab-runner-fleet/arm-spot/runner-token-ondemand');
    expect(fleetRunnerObjects(fleet)).toEqual([
      { computeType: 'spot', tokenSecretName: 'gitlab-runner-fleet/arm-spot/runner-token', tags: ['computetype-spot', 'arm64', 'docker'] },
      {
        computeType: 'on-demand',
        tokenSecretName: 'gitlab-runner-fleet/arm-spot/runner-token-ondemand',
        tags: ['computetype-ondemand', 'arm64', 'docker'],
      },
    ]);
  });

  it("prefixes a managed mixed fleet's default on-demand secret with the deployment name, like its first secret", () => {
    const fleet = parseFleetConfig({
      ...config({ onDemandBase: 1, gitlabRunner: { scope: 'instance', accessTokenSecretName: ACCESS } }),
      deployment: 'ci',
    }).fleets[0];

    expect(fleet.runnerTokenSecretName).toBe('gitlab-runner-fleet/ci/arm-spot/runner-token');
    expect(fleet.onDemandRunnerTokenSecretName).toBe('gitlab-runner-fleet/ci/arm-spot/runner-token-ondemand');
  });

  it('keeps an explicitly named on-demand secret in a named deployment', () => {
    const fleet = parseFleetConfig({
      ...config({
        onDemandBase: 1,
        onDemandRunnerTokenSecretName: 'team/arm-spot-ondemand',
        gitlabRunner: { scope: 'instance', accessTokenSecretName: ACCESS },
      }),
      deployment: 'ci',
    }).fleets[0];

    expect(fleet.onDemandRunnerTokenSecretName).toBe('team/arm-spot-ondemand');
  });

  it('keeps one runner for a mixed fleet in token-secret mode unless it names a second secret', () => {
    const single = parseFleetConfig(config({ onDemandBase: 1 })).fleets[0];
    const two = parseFleetConfig(config({ onDemandBase: 1, onDemandRunnerTokenSecretName: 'my/ondemand' })).fleets[0];

    expect(single.onDemandRunnerTokenSecretName).toBeUndefined();
    expect(fleetRunnerObjects(single)).toHaveLength(1);
    expect(fleetRunnerObjects(two).map((r) => r.tokenSecretName)).toEqual(['gitlab-runner-fleet/arm-spot/runner-token', 'my/ondemand']);
  });

  it('reports a missing or misplaced group/project and a misplaced on-demand secret, all at once', () => {
    const problems = problemsOf(
      config({
        computeType: 'on-demand',
        onDemandRunnerTokenSecretName: 'x/y',
        gitlabRunner: { scope: 'group', project: 'a/b', accessTokenSecretName: ACCESS },
      }),
    );

    expect(problems).toEqual(
      expect.arrayContaining([
        'fleets[0].gitlabRunner.group: is required with scope group (an id or a full path)',
        'fleets[0].gitlabRunner.project: only applies to scope project; scope is group',
        'fleets[0].onDemandRunnerTokenSecretName: only applies to spot fleets with onDemandBase > 0 (their on-demand instances use it)',
      ]),
    );
  });

  it('rejects an unknown scope and a missing access token secret, naming the fields', () => {
    const problems = problemsOf(config({ gitlabRunner: { scope: 'org' } }));

    expect(problems.some((p) => p.startsWith('fleets[0].gitlabRunner.scope:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('fleets[0].gitlabRunner.accessTokenSecretName:'))).toBe(true);
  });
});
