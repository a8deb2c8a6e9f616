import { App, CfnParameter, CfnResource, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { RunnerInstanceRole } from '../../lib/fleet/fleet-role';
import { awsSolutionsFindings } from './nag';

const ENV = { account: '123456789012', region: 'eu-central-1' };

function roleIn(stack: Stack, overrides: { autoScalingGroupName?: string; runnerTokenSecret?: secretsmanager.ISecret } = {}) {
  return new RunnerInstanceRole(stack, 'Role', {
    fleetName: 'alpha',
    autoScalingGroupName: overrides.autoScalingGroupName ?? 'gitlab-runner-fleet-alpha',
    runnerTokenSecret:
      overrides.runnerTokenSecret ?? secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'gitlab-runner-fleet/alpha/runner-token'),
  });
}

describe('RunnerInstanceRole used directly', () => {
  it('may decrypt with the customer managed key of an imported token secret', () => {
    // GIVEN a token secret encrypted with a customer managed key
    const stack = new Stack(new App(), 'S', { env: ENV });
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555');
    const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'Secret', {
      secretCompleteArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:team/token-AbCdEf',
      encryptionKey: key,
    });

    // WHEN the role is created for it
    roleIn(stack, { runnerTokenSecret: secret });

    // THEN the role may decrypt with that key
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Resource: 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555',
          }),
        ]),
      },
    });
  });

  it('adds no KMS statement for a secret under the AWS managed key', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    roleIn(stack);

    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown }> } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements.flatMap((s) => ([] as unknown[]).concat(s.Action)).filter((a) => String(a).startsWith('kms:'))).toEqual([]);
  });

  it('stays nag-clean when ARNs are plain strings (partition literals enabled)', () => {
    // GIVEN an app where a concrete region makes ARNs literal strings
    const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } });
    const stack = new Stack(app, 'S', { env: ENV });

    // WHEN the role is created
    roleIn(stack);

    // THEN the lifecycle statement uses a literal ARN and its wildcard acknowledgements still match
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'OwnLifecycleActions',
            Resource: 'arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet-alpha',
          }),
        ]),
      },
    });
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('stays nag-clean when the group name is only known at deploy time', () => {
    // GIVEN a group name imported from another stack
    const stack = new Stack(new App(), 'S');

    // WHEN the role is created for it
    roleIn(stack, { autoScalingGroupName: Fn.importValue('fleet-group-name') });

    // THEN the acknowledgements still cover the wildcard resources
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('stays nag-clean when the group name is an attribute of another resource', () => {
    // GIVEN a group name read from a resource attribute
    const stack = new Stack(new App(), 'S');
    const source = new CfnResource(stack, 'Source', { type: 'Custom::GroupName' });

    // WHEN the role is created for it
    roleIn(stack, { autoScalingGroupName: source.getAtt('Name').toString() });

    // THEN the acknowledgements still cover the wildcard resources
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('stays nag-clean when the group name is a template parameter', () => {
    const stack = new Stack(new App(), 'S');
    const name = new CfnParameter(stack, 'GroupName', { type: 'String' });

    roleIn(stack, { autoScalingGroupName: name.valueAsString });

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('stays nag-clean when the group name is an intrinsic cdk-nag spells as JSON (Fn::Select)', () => {
    const stack = new Stack(new App(), 'S');

    roleIn(stack, { autoScalingGroupName: Fn.select(0, Fn.getAzs()) });

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('stays nag-clean when the group name is built with Fn::Sub', () => {
    const stack = new Stack(new App(), 'S');

    roleIn(stack, { autoScalingGroupName: Fn.sub('fleet-${AWS::StackName}') });

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
