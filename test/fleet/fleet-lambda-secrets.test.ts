import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../lib/config';
import { deploymentOfFleets, MAX_LISTED_RESOURCES, MAX_LISTED_SECRETS } from '../../lib/fleet/fleet-lambda';
import { OrphanReaper } from '../../lib/fleet/orphan-reaper';
import { RunnerFleetSafetyNet } from '../../lib/fleet/safety-net';

type Statement = { Action: unknown; Resource: unknown };

function getSecretValueResources(stack: Stack): string[] {
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
  return statements
    .filter((s) => s.Action === 'secretsmanager:GetSecretValue')
    .flatMap((s) => ([] as unknown[]).concat(s.Resource))
    .map((r) => JSON.stringify(r).match(/secret:([^"]*)/)?.[1] ?? '');
}

function config(fleets: Record<string, unknown>[], deployment?: string) {
  return parseFleetConfig({
    ...(deployment ? { deployment } : {}),
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper: { enabled: true, apiTokenSecretName: 'team/reaper-token' },
    fleets,
  });
}

/** The secret ARNs the safety net may read, as text with pseudo parameters named. */
function readableSecrets(fleets: Record<string, unknown>[], deployment?: string): string[] {
  const c = config(fleets, deployment);
  const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-central-1' } });
  new RunnerFleetSafetyNet(stack, 'Net', { fleets: c.fleets, gitlab: c.gitlab });
  return getSecretValueResources(stack);
}

const fleet = (i: number, extra: Record<string, unknown> = {}) => ({
  name: `fleet-${i}`,
  computeType: 'spot',
  instanceTypes: ['m7g.large'],
  capacity: { max: 1 },
  ...extra,
});

// The first synth of a process stages both Lambda bundles; a loaded CI machine needs more than the default minute.
describe('FleetLambdaFunction secret grants', { timeout: 300_000 }, () => {
  it('lists each token secret of a config without a deployment name', () => {
    const secrets = readableSecrets(Array.from({ length: MAX_LISTED_RESOURCES }, (_, i) => fleet(i)));

    expect(secrets).toHaveLength(MAX_LISTED_RESOURCES);
    expect(secrets).toContain('gitlab-runner-fleet/fleet-0/runner-token-??????');
    expect(secrets.some((s) => s.includes('*'))).toBe(false);
  });

  it('scopes the grant to this deployment at 31 fleets: only its own prefix, never every gitlab-runner-fleet/* secret', () => {
    // GIVEN 31 fleets of the deployment "team-a", one of them with a custom secret name
    const fleets = [...Array.from({ length: 31 }, (_, i) => fleet(i)), fleet(99, { runnerTokenSecretName: 'team/special' })];

    // WHEN the safety net is synthesized
    const secrets = readableSecrets(fleets, 'team-a');

    // THEN it reads the deployment's default-named secrets by their prefix, and the custom one by name
    expect(secrets).toEqual(['gitlab-runner-fleet/team-a/*/runner-token-??????', 'team/special-??????']);
    expect(secrets).not.toContain('gitlab-runner-fleet/*/runner-token-??????');
  });

  it("grants 31 managed mixed fleets' on-demand token secrets by the deployment's prefix too, not by name", () => {
    // GIVEN 31 mixed fleets of the deployment "team-a" that own their runners (two token secrets each)
    const managed = { onDemandBase: 1, gitlabRunner: { scope: 'instance', accessTokenSecretName: 'team/runner-admin' } };
    const fleets = Array.from({ length: 31 }, (_, i) => fleet(i, managed));

    // WHEN the safety net is synthesized
    const secrets = readableSecrets(fleets, 'team-a');

    // THEN one pattern per runner kind, under the deployment's prefix, covers all 62 secrets
    expect(secrets).toEqual([
      'gitlab-runner-fleet/team-a/*/runner-token-??????',
      'gitlab-runner-fleet/team-a/*/runner-token-ondemand-??????',
    ]);
  });

  it('lists an explicitly named on-demand secret by name, as before', () => {
    const secrets = readableSecrets([fleet(1, { onDemandBase: 1, onDemandRunnerTokenSecretName: 'team/ondemand' })], 'team-a');

    expect(secrets).toEqual(['gitlab-runner-fleet/team-a/*/runner-token-??????', 'team/ondemand-??????']);
  });

  it('scopes the orphan reaper the same way at 31 fleets, beside its API token secret', () => {
    const c = config(
      Array.from({ length: 31 }, (_, i) => fleet(i)),
      'team-a',
    );
    const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-central-1' } });
    new OrphanReaper(stack, 'Reaper', { fleets: c.fleets, gitlab: c.gitlab, settings: c.orphanReaper });

    expect(getSecretValueResources(stack)).toEqual(['gitlab-runner-fleet/team-a/*/runner-token-??????', 'team/reaper-token-??????']);
  });

  it('names the deployment in default secret names, so two deployments never match each other', () => {
    const a = config([fleet(1)], 'team-a').fleets[0].runnerTokenSecretName;
    const ab = config([fleet(1)], 'team-a-b').fleets[0].runnerTokenSecretName;

    expect(a).toBe('gitlab-runner-fleet/team-a/fleet-1/runner-token');
    expect(ab.startsWith('gitlab-runner-fleet/team-a/')).toBe(false);
  });

  it(`refuses more than ${MAX_LISTED_SECRETS} custom secret names, which would outgrow the role's policy`, () => {
    const fleets = Array.from({ length: MAX_LISTED_SECRETS + 1 }, (_, i) => fleet(i, { runnerTokenSecretName: `team/runner-${i}` }));

    expect(() => readableSecrets(fleets, 'team-a')).toThrow(/41 secrets are listed by name, more than 40/);
  });
});

describe('deploymentOfFleets', () => {
  it('names the deployment the fleets share, or none', () => {
    expect(
      deploymentOfFleets([
        { name: 'a', deployment: 'ci' },
        { name: 'b', deployment: 'ci' },
      ]),
    ).toBe('ci');
    expect(deploymentOfFleets([{ name: 'a' }])).toBeUndefined();
  });

  it('refuses fleets of different deployments in one shared stack', () => {
    expect(() => deploymentOfFleets([{ name: 'a', deployment: 'ci' }, { name: 'b' }])).toThrow(
      'fleets belong to different deployments (ci, (none)); one shared stack serves one deployment',
    );
  });
});
