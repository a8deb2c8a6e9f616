import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../lib/config';
import { MAX_LISTED_RESOURCES } from '../../lib/fleet/fleet-lambda';
import { RunnerFleetSafetyNet } from '../../lib/fleet/safety-net';

/** The secret ARNs the safety net may read, as text with pseudo parameters named. */
function readableSecrets(fleets: Record<string, unknown>[]): string[] {
  const c = parseFleetConfig({ gitlab: { url: 'https://gitlab.example.com' }, fleets });
  const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-central-1' } });
  new RunnerFleetSafetyNet(stack, 'Net', { fleets: c.fleets, gitlab: c.gitlab });
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument
        .Statement,
  );
  return statements
    .filter((s) => s.Action === 'secretsmanager:GetSecretValue')
    .flatMap((s) => ([] as unknown[]).concat(s.Resource))
    .map((r) => JSON.stringify(r).match(/secret:([^"]*)/)?.[1] ?? '');
}

const fleet = (i: number, extra: Record<string, unknown> = {}) => ({
  name: `fleet-${i}`,
  computeType: 'spot',
  instanceTypes: ['m7g.large'],
  capacity: { max: 1 },
  ...extra,
});

describe('FleetLambdaFunction secret grants beyond the listing limit', () => {
  it('keeps listing every secret when no fleet uses a default-named token secret', () => {
    // GIVEN more fleets than are listed one by one, each with its own custom secret name
    const fleets = Array.from({ length: MAX_LISTED_RESOURCES + 1 }, (_, i) => fleet(i, { runnerTokenSecretName: `team/runner-${i}` }));

    // THEN each custom secret is listed and no default-name pattern is granted
    const secrets = readableSecrets(fleets);
    expect(secrets).toHaveLength(MAX_LISTED_RESOURCES + 1);
    expect(secrets).toContain('team/runner-0-??????');
    expect(secrets.some((s) => s.includes('*'))).toBe(false);
  });

  it('collapses default-named token secrets into one pattern and keeps custom ones listed', () => {
    const fleets = [
      ...Array.from({ length: MAX_LISTED_RESOURCES }, (_, i) => fleet(i)),
      fleet(99, { runnerTokenSecretName: 'team/special' }),
    ];

    expect(readableSecrets(fleets)).toEqual(['gitlab-runner-fleet/*/runner-token-??????', 'team/special-??????']);
  });
});
