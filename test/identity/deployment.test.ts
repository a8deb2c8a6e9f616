import { describe, expect, it } from 'vitest';
import {
  autoScalingGroupNamePrefix,
  defaultRunnerTokenSecretName,
  deploymentNameProblem,
  fleetNameOfGroup,
  fleetStackName,
  defaultOnDemandRunnerTokenSecretName,
  deploymentTokenSecretPattern,
  isDeploymentRunnerTokenSecret,
  sharedStackName,
} from '../../lib/identity/deployment';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';

describe('deployment naming rule', () => {
  it('keeps the names of a config without a deployment name as they always were', () => {
    expect(autoScalingGroupName('spot')).toBe('gitlab-runner-fleet-spot');
    expect(defaultRunnerTokenSecretName('spot')).toBe('gitlab-runner-fleet/spot/runner-token');
    expect(sharedStackName()).toBe('gitlab-runner-fleet-shared');
    expect(fleetStackName('spot')).toBe('gitlab-runner-fleet-spot');
  });

  it('prefixes group, secret and stack names with the deployment name', () => {
    expect(autoScalingGroupName('spot', 'ci')).toBe('gitlab-runner-fleet.ci.spot');
    expect(defaultRunnerTokenSecretName('spot', 'ci')).toBe('gitlab-runner-fleet/ci/spot/runner-token');
    expect(sharedStackName('ci')).toBe('gitlab-runner-fleet-ci--shared');
    expect(fleetStackName('spot', 'ci')).toBe('gitlab-runner-fleet-ci--spot');
  });

  it("never lets one deployment's prefix match another deployment's or an unnamed config's groups", () => {
    const prefix = autoScalingGroupNamePrefix('team');
    const others = [autoScalingGroupName('x', 'team-a'), autoScalingGroupName('team'), autoScalingGroupName('team-x')];
    for (const group of others) expect(group.startsWith(prefix)).toBe(false);
  });

  it('reads the fleet name back from a group of the deployment only', () => {
    expect(fleetNameOfGroup('gitlab-runner-fleet.ci.later-fleet', 'ci')).toBe('later-fleet');
    expect(fleetNameOfGroup('gitlab-runner-fleet.other.later-fleet', 'ci')).toBeUndefined();
    expect(fleetNameOfGroup('gitlab-runner-fleet.ci.', 'ci')).toBeUndefined();
  });

  it("tells the deployment's default token secrets from any other secret", () => {
    expect(isDeploymentRunnerTokenSecret('gitlab-runner-fleet/ci/spot/runner-token', 'ci')).toBe(true);
    expect(isDeploymentRunnerTokenSecret('gitlab-runner-fleet/ci/runner-token', 'ci')).toBe(false);
    expect(isDeploymentRunnerTokenSecret('gitlab-runner-fleet/cd/spot/runner-token', 'ci')).toBe(false);
  });

  it("names a mixed fleet's default on-demand token secret under the deployment's prefix, unprefixed without one", () => {
    expect(defaultOnDemandRunnerTokenSecretName('mixed', 'ci')).toBe('gitlab-runner-fleet/ci/mixed/runner-token-ondemand');
    expect(defaultOnDemandRunnerTokenSecretName('mixed')).toBe('gitlab-runner-fleet/mixed/runner-token-ondemand');
  });

  it('matches each kind of default token secret with its own pattern under the prefix, and nothing else', () => {
    expect(deploymentTokenSecretPattern('gitlab-runner-fleet/ci/mixed/runner-token', 'ci')).toBe('gitlab-runner-fleet/ci/*/runner-token');
    expect(deploymentTokenSecretPattern('gitlab-runner-fleet/ci/mixed/runner-token-ondemand', 'ci')).toBe(
      'gitlab-runner-fleet/ci/*/runner-token-ondemand',
    );
    expect(deploymentTokenSecretPattern('gitlab-runner-fleet/ci/mixed/runner-token-other', 'ci')).toBeUndefined();
    expect(deploymentTokenSecretPattern('gitlab-runner-fleet/cd/mixed/runner-token-ondemand', 'ci')).toBeUndefined();
    expect(isDeploymentRunnerTokenSecret('gitlab-runner-fleet/ci/mixed/runner-token-ondemand', 'ci')).toBe(true);
  });

  it.each(['ci', 'team-a', 'prod2'])('accepts the deployment name %s', (name) => {
    expect(deploymentNameProblem(name)).toBeUndefined();
  });

  it.each(['a', 'Team', 'team--a', 'team-', '-team', 'team.a', 'a-very-long-deployment'])('rejects the deployment name %s', (name) => {
    expect(deploymentNameProblem(name)).toMatch(/2-16 characters/);
  });
});
