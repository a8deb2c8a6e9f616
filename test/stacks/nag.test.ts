import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadFleetConfig } from '../../lib/config';
import { addFleetStacks } from '../../lib/stacks/fleet-app';
import { buildFleet } from '../support/stack-helpers';

/** Unacknowledged AwsSolutions findings (errors and warnings) as `rule at path` lines. */
function findings(app: App | Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} (${v.severity}) at ${r.constructPath}`));
}

const CONFIGS = [
  'fleet.config.yaml',
  'examples/graviton-spot.yaml',
  'examples/on-demand.yaml',
  'examples/mixed-floor-spot.yaml',
  'examples/gitlab-managed.yaml',
  'examples/private-ca.yaml',
  'examples/deploy-roles.yaml',
];

describe('cdk-nag AwsSolutions', () => {
  it.each(CONFIGS)('reports nothing unacknowledged for %s', (file) => {
    const app = new App({ builtinCloudFormationValidation: false });
    addFleetStacks(app, loadFleetConfig(file));
    expect(findings(app)).toEqual([]);
  });

  it('reports nothing for a RunnerFleet in an environment-specific stack', () => {
    const { stack } = buildFleet();
    const vpcFindings = (line: string) => line.includes('/Vpc/');
    expect(findings(stack).filter((line) => !vpcFindings(line))).toEqual([]);
  });

  it('does report a finding the fleet constructs do not acknowledge (the check is live)', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    new ec2.Vpc(new Stack(app, 'Bare'), 'Vpc', { natGateways: 0 });
    expect(findings(app)).toContain('AwsSolutions-VPC7 (error) at Bare/Vpc/Resource');
  });
});
