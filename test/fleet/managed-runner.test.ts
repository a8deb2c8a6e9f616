/**
 * Template assertions for fleets that own their GitLab runner objects (config `gitlabRunner`):
 * one custom resource and one token secret per compute type, secrets readable only by the
 * fleet's instance role and the handler, and a handler scoped to its own secrets.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { awsSolutionsFindings } from './nag';
import { buildFleet, resourcesOfType } from '../support/stack-helpers';

const GROUP_RUNNER = { scope: 'group', group: 'my-org/platform', accessTokenSecretName: 'gitlab-runner-fleet/access-token' };

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function policyStatements(template: Template, roleLogicalIdPrefix: string): Statement[] {
  return Object.entries(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(([, policy]) => {
    const roles = JSON.stringify(policy.Properties.Roles);
    return roles.includes(roleLogicalIdPrefix) ? (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement : [];
  });
}

function logicalId(template: Template, type: string, pathPart: string): string {
  const found = Object.entries(template.findResources(type)).find(([id]) => id.includes(pathPart));
  if (!found) throw new Error(`no ${type} with ${pathPart} in its logical id`);
  return found[0];
}

describe('a fleet that owns its GitLab runner', () => {
  it('creates one runner with the fleet compute type, architecture, executor and extra tags, run-untagged off', () => {
    const { template } = buildFleet({ gitlabRunner: GROUP_RUNNER, runnerTags: ['big'] });

    template.resourceCountIs('Custom::GitLabRunner', 1);
    template.hasResourceProperties('Custom::GitLabRunner', {
      FleetName: 'test-fleet',
      ComputeType: 'spot',
      RunnerType: 'group_type',
      Namespace: 'my-org/platform',
      TagList: ['computetype-spot', 'arm64', 'docker', 'big'],
      RunUntagged: 'false',
      Locked: 'false',
      AccessLevel: 'not_protected',
      Paused: 'false',
      MaximumTimeout: '3600',
      Description: 'gitlab-runner-fleet test-fleet (spot) in 123456789012/eu-central-1',
    });
  });

  it('passes the configured settings and the job timeout as the runner maximum timeout', () => {
    const { template } = buildFleet({
      computeType: 'on-demand',
      architecture: 'x86_64',
      instanceTypes: ['m7i.large'],
      executor: 'shell',
      maxJobTimeoutMinutes: 90,
      gitlabRunner: {
        scope: 'project',
        project: 42,
        accessTokenSecretName: 'x/token',
        runUntagged: true,
        accessLevel: 'ref_protected',
        paused: true,
      },
    });

    template.hasResourceProperties('Custom::GitLabRunner', {
      RunnerType: 'project_type',
      Namespace: '42',
      TagList: ['computetype-ondemand', 'x86_64', 'shell'],
      RunUntagged: 'true',
      Locked: 'true',
      AccessLevel: 'ref_protected',
      Paused: 'true',
      MaximumTimeout: '5400',
    });
  });

  it('gives a mixed fleet two runners, one per compute type, each with its own secret', () => {
    const { template } = buildFleet({ gitlabRunner: GROUP_RUNNER, onDemandBase: 1 });

    template.resourceCountIs('Custom::GitLabRunner', 2);
    template.hasResourceProperties('Custom::GitLabRunner', { ComputeType: 'spot', TagList: ['computetype-spot', 'arm64', 'docker'] });
    template.hasResourceProperties('Custom::GitLabRunner', {
      ComputeType: 'on-demand',
      TagList: ['computetype-ondemand', 'arm64', 'docker'],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'gitlab-runner-fleet/test-fleet/runner-token' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'gitlab-runner-fleet/test-fleet/runner-token-ondemand' });
  });

  it('tells the instances both secret names, so each picks by its lifecycle', () => {
    const { fleet } = buildFleet({ gitlabRunner: GROUP_RUNNER, onDemandBase: 1 });

    const userData = fleet.launchTemplate.userData!.render();
    expect(userData).toContain("GRF_TOKEN_SECRET_ID='gitlab-runner-fleet/test-fleet/runner-token'");
    expect(userData).toContain("GRF_ONDEMAND_TOKEN_SECRET_ID='gitlab-runner-fleet/test-fleet/runner-token-ondemand'");
  });

  it('makes each token secret unreadable to every principal but the instance role and the handler', () => {
    const { template } = buildFleet({ gitlabRunner: GROUP_RUNNER, onDemandBase: 1 });
    const instanceRole = logicalId(template, 'AWS::IAM::Role', 'InstanceRole');
    const handlerRole = logicalId(template, 'AWS::IAM::Role', 'GitLabRunnersHandler');

    const policies = resourcesOfType(template, 'AWS::SecretsManager::ResourcePolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.ResourcePolicy).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyFleetInstancesAndHandlerRead',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: {
              StringNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [instanceRole, 'Arn'] }, { 'Fn::GetAtt': [handlerRole, 'Arn'] }] },
            },
          },
        ],
      });
    }
  });

  it('lets the instance role read exactly the fleet token secrets', () => {
    const { template } = buildFleet({ gitlabRunner: GROUP_RUNNER, onDemandBase: 1 });
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret')).sort();

    const read = policyStatements(template, 'InstanceRole').find((s) => s.Sid === 'ReadOwnRunnerToken')!;
    expect(read.Action).toBe('secretsmanager:GetSecretValue');
    expect(read.Resource).toEqual(expect.arrayContaining(secrets.map((id) => ({ Ref: id }))));
    expect(read.Resource).toHaveLength(2);
  });

  it('scopes the handler to reading the access token and reading and writing its own token secrets, nothing wildcarded', () => {
    const { template } = buildFleet({ gitlabRunner: GROUP_RUNNER });
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'SpotToken');

    const statements = policyStatements(template, 'GitLabRunnersHandler').filter((s) =>
      JSON.stringify(s.Action).includes('secretsmanager'),
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Sid: 'ReadGitLabAccessToken',
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-central-1:123456789012:secret:gitlab-runner-fleet/access-token-??????'],
          ],
        },
      }),
      expect.objectContaining({
        Sid: 'OwnRunnerTokens',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        Resource: { Ref: secret },
      }),
    ]);
  });

  it('starts no instance before the runner exists and its token is stored', () => {
    const { template } = buildFleet({ gitlabRunner: GROUP_RUNNER });
    const runner = logicalId(template, 'Custom::GitLabRunner', 'SpotRunner');

    template.hasResource('AWS::AutoScaling::AutoScalingGroup', { DependsOn: Match.arrayWith([runner]) });
  });

  it('is cdk-nag AwsSolutions clean', () => {
    const { stack } = buildFleet({ gitlabRunner: GROUP_RUNNER, onDemandBase: 1 });

    // The test VPC is the harness's, not the fleet's.
    expect(awsSolutionsFindings(stack).filter((f) => !f.includes('TestStack/Vpc/'))).toEqual([]);
  });

  it('keeps a fleet with a hand-made token secret free of runner resources', () => {
    const { template } = buildFleet();

    template.resourceCountIs('Custom::GitLabRunner', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });
});
