/**
 * cdk.json sets every feature flag the installed aws-cdk-lib recommends, so `cdk synth` prints no
 * "feature flags are not configured" notice and new projects' defaults apply. The templates were
 * compared with and without them: only the shared stack's IAM policies change (the actions of a
 * statement sorted and merged by @aws-cdk/aws-iam:minimizePolicies).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };
const recommended = JSON.parse(readFileSync('node_modules/aws-cdk-lib/recommended-feature-flags.json', 'utf8')) as Record<string, unknown>;

describe('CDK feature flags in cdk.json', () => {
  it('sets every flag the installed aws-cdk-lib recommends (after an upgrade: copy the new ones from recommended-feature-flags.json)', () => {
    const missing = Object.keys(recommended).filter((flag) => !(flag in cdkJson.context));
    expect(missing).toEqual([]);
  });

  it('sets them to the recommended values', () => {
    for (const [flag, value] of Object.entries(recommended)) expect(cdkJson.context[flag], flag).toEqual(value);
  });

  it('keeps the bundled config as the default config', () => {
    expect(cdkJson.context.config).toBe('fleet.config.yaml');
  });
});
