import { describe, expect, it } from 'vitest';
import { FLEET_TAGS } from '../../lib/identity/runner-identity';
import { buildFleet, fleetSpec } from '../support/stack-helpers';

describe('RunnerFleet in a named deployment', () => {
  it("names its group with the deployment's prefix and tags it with the deployment", () => {
    const { fleet, template } = buildFleet({}, { fleet: { ...fleetSpec({ name: 'spot' }), deployment: 'ci' } });

    expect(fleet.autoScalingGroupName).toBe('gitlab-runner-fleet.ci.spot');
    const [group] = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup')) as Array<{
      Properties: { AutoScalingGroupName: string; Tags: Array<{ Key: string; Value: string }> };
    }>;
    expect(group.Properties.AutoScalingGroupName).toBe('gitlab-runner-fleet.ci.spot');
    expect(group.Properties.Tags).toContainEqual(expect.objectContaining({ Key: FLEET_TAGS.deployment, Value: 'ci' }));
  });

  it('keeps the unprefixed group name and no deployment tag without a deployment name', () => {
    const { fleet, template } = buildFleet({ name: 'spot' });

    expect(fleet.autoScalingGroupName).toBe('gitlab-runner-fleet-spot');
    expect(JSON.stringify(template.toJSON())).not.toContain(FLEET_TAGS.deployment);
  });
});
