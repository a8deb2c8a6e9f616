/**
 * A fleet launched from the catalog into an account holding nothing but the runner platform
 * still gets drain, deregistration and orphan cleanup: template-level checks that the platform's
 * safety net and reaper serve the fleet registry and match the fleet's group by name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLEET_GROUP_NAME_PREFIX, FLEET_REGISTRY_PATH, PLATFORM_PARAMETERS } from '../../lib/identity/fleet-registry';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';
import { HANDLER_CONFIG_FILE, parseHandlerConfig } from '../../lib/lambda/shared/handler-config';
import { synthCatalog, type CatalogUnderTest, type CfnTemplate } from '../support/catalog-helpers';

let catalog: CatalogUnderTest;
let platform: Template;
let platformJson: CfnTemplate;

beforeAll(() => {
  catalog = synthCatalog();
  platform = catalog.productTemplate(catalog.stacks.catalog!.platformProductStack);
  platformJson = catalog.productJson(catalog.stacks.catalog!.platformProductStack);
});

describe('runner platform product', () => {
  it('sends terminations of every fleet-named group, including fleets launched later, to the safety net', () => {
    platform.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.autoscaling'],
        detail: { AutoScalingGroupName: [{ prefix: FLEET_GROUP_NAME_PREFIX }] },
      }),
    });
    expect(autoScalingGroupName('any-team').startsWith(FLEET_GROUP_NAME_PREFIX)).toBe(true);
  });

  it('configures both Lambdas with the fleet registry and the platform GitLab only (no fleet list)', () => {
    const functions = Object.entries(platformJson.Resources)
      .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && /^(SafetyNet|OrphanReaper)Handler/.test(id))
      .map(([, r]) => r);
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      // The product's code lives in the catalog asset bucket under the asset hash; the assembly holds it as asset.<hash>.
      const key = String((fn.Properties!.Code as { S3Key: string }).S3Key);
      const config = parseHandlerConfig(
        readFileSync(join(catalog.outdir, `asset.${key.replace(/\.zip$/, '')}`, HANDLER_CONFIG_FILE), 'utf8'),
      );
      expect(config).toMatchObject({ gitlabUrl: 'https://gitlab.example.com', fleets: [], registryPath: FLEET_REGISTRY_PATH });
    }
  });

  it('lets the Lambdas list the registry, complete lifecycle actions of fleet groups and read fleet token secrets', () => {
    const policies = JSON.stringify(platform.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('"ssm:GetParametersByPath"');
    expect(policies).toContain(':parameter/gitlab-runner-fleet/registry');
    expect(policies).toContain(`:autoScalingGroupName/${FLEET_GROUP_NAME_PREFIX}*`);
    expect(policies).toContain(':secret:gitlab-runner-fleet/catalog.fleets/*-??????');
  });

  it("reads the catalog fleets' token secrets by the catalog's own prefix, never every gitlab-runner-fleet/ secret of the account", () => {
    const boundary = JSON.stringify(platform.findResources('AWS::IAM::ManagedPolicy'));
    const grants = `${JSON.stringify(platform.findResources('AWS::IAM::Policy'))}${boundary}`;

    expect(grants).not.toContain(':secret:gitlab-runner-fleet/*');
    // The orphan reaper's API token is allowed by name, in its role and in the boundary its role carries.
    expect(boundary).toContain(':secret:gitlab-runner-fleet/catalog.fleets/*');
    expect(boundary).toContain(':secret:gitlab-runner-fleet/api-token-??????');
  });

  it('runs the orphan reaper on an enabled schedule', () => {
    platform.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: Match.stringLikeRegexp('^cron\\('), State: 'ENABLED' });
  });

  it('publishes its VPC and subnets where fleet products look for them', () => {
    platform.hasResourceProperties('AWS::SSM::Parameter', { Name: PLATFORM_PARAMETERS.vpcId, Type: 'String' });
    platform.hasResourceProperties('AWS::SSM::Parameter', { Name: PLATFORM_PARAMETERS.subnetIds, Type: 'StringList' });
    const fleet = catalog.productJson(catalog.stacks.catalog!.productStacks['graviton-spot']!);
    expect(fleet.Parameters.PlatformVpcId).toMatchObject({
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: PLATFORM_PARAMETERS.vpcId,
    });
    expect(fleet.Parameters.PlatformSubnetIds).toMatchObject({ Default: PLATFORM_PARAMETERS.subnetIds });
  });

  it('installs the permissions boundary the fleet products roles carry', () => {
    platform.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'gitlab-runner-fleet-boundary',
      Path: '/gitlab-runner-fleet/',
    });
  });

  it('needs no fleet at synth and no other stack: its template references nothing outside itself', () => {
    expect(JSON.stringify(platformJson)).not.toContain('Fn::ImportValue');
  });
});
