import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadFleetConfig } from '../../lib/config';
import { addFleetStacks } from '../../lib/stacks/fleet-app';

describe('examples/named-deployment.yaml', () => {
  it('loads its aliases and names every group, secret and stack after the deployment', () => {
    const config = loadFleetConfig('examples/named-deployment.yaml');
    const app = new App({ builtinCloudFormationValidation: false });
    const { shared, fleets } = addFleetStacks(app, config);

    expect(config.fleets[1].instanceTypes).toEqual(config.fleets[0].instanceTypes);
    expect(shared.stackName).toBe('gitlab-runner-fleet-platform--shared');
    expect(fleets.map((s) => s.stackName)).toEqual([
      'gitlab-runner-fleet-platform--build',
      'gitlab-runner-fleet-platform--test',
      'gitlab-runner-fleet-platform--deploy',
    ]);
    expect(config.fleets.map((f) => f.runnerTokenSecretName)).toContain('gitlab-runner-fleet/platform/deploy/runner-token');
  });

  it('reports nothing unacknowledged under cdk-nag AwsSolutions, prefix grants included', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    addFleetStacks(app, loadFleetConfig('examples/named-deployment.yaml'));

    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
  });
});
