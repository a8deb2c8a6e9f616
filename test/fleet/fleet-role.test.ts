import { Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildFleet, resourcesOfType } from '../support/stack-helpers';

const POLICY = 'AWS::IAM::Policy';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

function statements(overrides: Record<string, unknown> = {}, build = buildFleet(overrides)): Statement[] {
  return Object.values(resourcesOfType(build.template, POLICY)).flatMap(
    (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

/** A Fn::Join ARN as one string with the pseudo parameters named. */
function arnText(resource: unknown): string {
  const join = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1].map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join('');
}

const bySid = (list: Statement[], sid: string) => list.find((s) => s.Sid === sid) as Statement;

describe('RunnerFleet instance role', () => {
  it('is assumed by EC2 and carries no managed policy at all (AmazonSSMManagedInstanceCore reads every SSM parameter)', () => {
    const { template } = buildFleet();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }),
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('allows exactly the Session Manager actions: agent registration and the four ssmmessages channels', () => {
    const statement = bySid(statements(), 'SessionManager');
    expect(statement.Action).toEqual([
      'ssm:UpdateInstanceInformation',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
    ]);
    expect(statement.Resource).toBe('*');
  });

  it('allows the Session Manager actions only from an EC2 instance of its own account and region (ec2:SourceInstanceARN)', () => {
    const statement = bySid(statements(), 'SessionManager');
    const condition = (statement.Condition as { ArnLike: Record<string, unknown> }).ArnLike['ec2:SourceInstanceARN'];
    expect(arnText(condition)).toBe('arn:<AWS::Partition>:ec2:eu-central-1:123456789012:instance/*');
  });

  it('cannot read SSM parameters, run commands (ec2messages) or tag instances beyond the busy-reporter keys', () => {
    const actions = statements()
      .filter((s) => s.Sid !== 'TagSelfWithBusySlots')
      .flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions.filter((a) => /^ssm:Get|^ssm:SendCommand|^ec2messages:|^ec2:CreateTags$/.test(a))).toEqual([]);
  });

  it('reads only its own token secret, by name with the Secrets Manager suffix', () => {
    const statement = bySid(statements({ name: 'own-secret' }), 'ReadOwnRunnerToken');
    expect(statement.Action).toBe('secretsmanager:GetSecretValue');
    expect(arnText(statement.Resource)).toBe(
      'arn:<AWS::Partition>:secretsmanager:eu-central-1:123456789012:secret:gitlab-runner-fleet/own-secret/runner-token-??????',
    );
  });

  it('reads a secret passed as runnerTokenSecret by its full ARN', () => {
    const custom = buildFleet(
      {},
      {
        runnerTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(
          new Stack(),
          'S',
          'arn:aws:secretsmanager:eu-central-1:123456789012:secret:team/token-AbCdEf',
        ),
      },
    );
    const statement = bySid(statements({}, custom), 'ReadOwnRunnerToken');
    expect(statement.Resource).toBe('arn:aws:secretsmanager:eu-central-1:123456789012:secret:team/token-AbCdEf');
  });

  it('completes and heartbeats lifecycle actions only on its own group', () => {
    const statement = bySid(statements({ name: 'own-group' }), 'OwnLifecycleActions');
    expect(statement.Action).toEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']);
    expect(arnText(statement.Resource)).toBe(
      'arn:<AWS::Partition>:autoscaling:eu-central-1:123456789012:autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet-own-group',
    );
  });

  it('tags only instances of its own fleet, and only with the two busy-reporter keys (demand scaling)', () => {
    const statement = bySid(statements({ name: 'own-tags' }), 'TagSelfWithBusySlots');
    expect(statement.Action).toBe('ec2:CreateTags');
    expect(arnText(statement.Resource)).toBe('arn:<AWS::Partition>:ec2:eu-central-1:123456789012:instance/*');
    expect(statement.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/gitlab-runner-fleet:fleet': 'own-tags' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['gitlab-runner-fleet:busy-slots', 'gitlab-runner-fleet:idle-since'] },
    });
  });

  it('grants no wildcard action, and a wildcard resource only to the Session Manager actions', () => {
    for (const statement of statements()) {
      const actions = ([] as string[]).concat(statement.Action);
      expect(actions.some((a) => a === '*' || a.endsWith(':*'))).toBe(false);
      if (statement.Sid !== 'SessionManager') expect(statement.Resource).not.toBe('*');
    }
  });

  it('has exactly the four statements the runner and the busy reporter need', () => {
    expect(statements().map((s) => s.Sid)).toEqual(['SessionManager', 'ReadOwnRunnerToken', 'OwnLifecycleActions', 'TagSelfWithBusySlots']);
  });
});
