import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { fakeRunnerToken } from '../support/fake-gitlab';
import { buildFleet, resourcesOfType } from '../support/stack-helpers';

const LT = 'AWS::EC2::LaunchTemplate';
const SG = 'AWS::EC2::SecurityGroup';

function launchTemplateData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const [lt] = Object.values(resourcesOfType(buildFleet(overrides).template, LT));
  return lt.Properties.LaunchTemplateData as Record<string, unknown>;
}

/** The user data script as text: the literal parts of its Fn::Base64 (the renderer passes plain strings). */
function userDataText(overrides: Record<string, unknown> = {}): string {
  const userData = launchTemplateData(overrides).UserData as unknown;
  return JSON.stringify(userData);
}

describe('RunnerFleet launch template', () => {
  it('requires IMDSv2 tokens with a hop limit of 1, so containers cannot reach the instance role', () => {
    const { template } = buildFleet();
    template.hasResourceProperties(LT, {
      LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' } },
    });
  });

  it('has an encrypted gp3 root volume of the default 40 GiB', () => {
    const { template } = buildFleet();
    template.hasResourceProperties(LT, {
      LaunchTemplateData: {
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 40, DeleteOnTermination: true } },
        ],
      },
    });
  });

  it('sizes the root volume from volumeSizeGiB', () => {
    const { template } = buildFleet({ volumeSizeGiB: 120 });
    template.hasResourceProperties(LT, {
      LaunchTemplateData: { BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 120 }) })] },
    });
  });

  it('has no key pair', () => {
    expect(launchTemplateData()).not.toHaveProperty('KeyName');
  });

  it('attaches an instance profile for the instance role', () => {
    expect(launchTemplateData().IamInstanceProfile).toEqual({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/Profile/), 'Arn'] } });
  });

  it('resolves the arm64 AL2023 AMI from the SSM public parameter at deploy time', () => {
    const { template } = buildFleet({ architecture: 'arm64' });
    const parameters = template.findParameters('*', {
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    });
    expect(Object.keys(parameters)).toHaveLength(1);
    expect(launchTemplateData({ architecture: 'arm64' }).ImageId).toEqual({ Ref: Object.keys(parameters)[0] });
  });

  it('resolves the x86_64 AL2023 AMI for x86_64 fleets', () => {
    const { template } = buildFleet({ architecture: 'x86_64', instanceTypes: ['m7i.large'] });
    template.hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
  });

  it('renders the instance scripts into user data with the fleet parameters', () => {
    const text = userDataText({ name: 'ud-fleet' });
    expect(text).toContain('ud-fleet');
    expect(text).toContain('#!/bin/bash');
  });

  it('puts no token into user data, only the secret name', () => {
    const token = fakeRunnerToken('userdata');
    process.env.GITLAB_RUNNER_TOKEN = token;
    try {
      const text = userDataText();
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/glrt-[A-Za-z0-9_-]{10,}/);
    } finally {
      delete process.env.GITLAB_RUNNER_TOKEN;
    }
  });
});

describe('RunnerFleet security group', () => {
  it('has no inbound rules', () => {
    const { template } = buildFleet();
    template.hasResourceProperties(SG, { SecurityGroupIngress: Match.absent() });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('allows outbound HTTPS only', () => {
    const { template } = buildFleet();
    template.hasResourceProperties(SG, {
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });
});
