import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { importFleetNetwork, RunnerVpc } from '../../lib/fleet/fleet-network';

function vpcTemplate(props = {}): Template {
  const stack = new Stack(new App(), 'S');
  new RunnerVpc(stack, 'Network', props);
  return Template.fromStack(stack);
}

describe('RunnerVpc (the default network)', () => {
  it('has public subnets in two availability zones and nothing private', () => {
    const template = vpcTemplate();
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
  });

  it('has no NAT gateway', () => {
    vpcTemplate().resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('records all traffic in VPC flow logs to CloudWatch Logs', () => {
    vpcTemplate().hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  it('keeps flow logs for 90 days by default, and keeps the log group when the stack is deleted', () => {
    vpcTemplate().hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('keeps flow logs as long as flowLogRetention says', () => {
    vpcTemplate({ flowLogRetention: logs.RetentionDays.ONE_YEAR }).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('refuses a flow-log retention under 90 days, naming the prop', () => {
    expect(() => vpcTemplate({ flowLogRetention: logs.RetentionDays.ONE_MONTH })).toThrow(
      'flowLogRetention (30 days) must be at least 90 days',
    );
  });

  it('lets VPC Flow Logs assume its role only for flow logs of this account (aws:SourceAccount, aws:SourceArn)', () => {
    vpcTemplate().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':vpc-flow-log/*'],
                  ],
                },
              },
            },
          },
        ],
      },
    });
  });

  it('restricts the default security group: its ingress and egress rules are removed', () => {
    const template = vpcTemplate();
    template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
      DefaultSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkVpc'), 'DefaultSecurityGroup'] },
    });
  });
});

describe('importFleetNetwork', () => {
  it('references the VPC and subnets by id without a lookup', () => {
    const stack = new Stack(new App(), 'S');
    const network = importFleetNetwork(stack, 'Net', {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    });
    expect(network.vpc.vpcId).toBe('vpc-0123456789abcdef0');
    expect(network.vpcSubnets.subnets?.map((s) => s.subnetId)).toEqual(['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb']);
    expect(Template.fromStack(stack).toJSON().Resources ?? {}).toEqual({});
  });

  it('keeps the availability zone of each subnet when given', () => {
    const stack = new Stack(new App(), 'S');
    const network = importFleetNetwork(stack, 'Net', {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'],
      availabilityZones: ['eu-west-1a'],
    });
    expect(network.vpcSubnets.subnets?.[0].availabilityZone).toBe('eu-west-1a');
  });
});
