import { Match } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { FLEET_TAGS } from '../../lib/identity/runner-identity';
import { buildFleet } from '../support/stack-helpers';

const tag = (Key: string, Value: string) => Match.objectLike({ Key, Value });

describe('RunnerFleet tags', () => {
  it('tags instances with compute type, fleet, GitLab URL and token secret name at launch', () => {
    const { template } = buildFleet({ name: 'tagged', computeType: 'spot' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        TagSpecifications: Match.arrayWith([
          {
            ResourceType: 'instance',
            Tags: Match.arrayWith([
              tag(FLEET_TAGS.computeType, 'spot'),
              tag(FLEET_TAGS.fleet, 'tagged'),
              tag(FLEET_TAGS.gitlabUrl, 'https://gitlab.example.com'),
              tag(FLEET_TAGS.tokenSecret, 'gitlab-runner-fleet/tagged/runner-token'),
            ]),
          },
        ]),
      },
    });
  });

  it('tags volumes the same way', () => {
    const { template } = buildFleet({ name: 'tagged', computeType: 'on-demand' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        TagSpecifications: Match.arrayWith([
          { ResourceType: 'volume', Tags: Match.arrayWith([tag(FLEET_TAGS.computeType, 'on-demand'), tag(FLEET_TAGS.fleet, 'tagged')]) },
        ]),
      },
    });
  });

  it('propagates the fleet tags from the group to its instances', () => {
    const { template } = buildFleet({ name: 'tagged' });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([Match.objectLike({ Key: FLEET_TAGS.fleet, Value: 'tagged', PropagateAtLaunch: true })]),
    });
  });

  it('names instances after their group', () => {
    const { template } = buildFleet({ name: 'tagged' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        TagSpecifications: Match.arrayWith([
          { ResourceType: 'instance', Tags: Match.arrayWith([tag('Name', 'gitlab-runner-fleet-tagged')]) },
        ]),
      },
    });
  });

  it('uses a configured token secret name in the tag', () => {
    const { template } = buildFleet({ runnerTokenSecretName: 'ci/runners/custom' });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([Match.objectLike({ Key: FLEET_TAGS.tokenSecret, Value: 'ci/runners/custom' })]),
    });
  });
});
