import {
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { aws, describeGroup, instanceRefreshStatus, startInstanceRefresh, writeSecretToken } from '../../lib/cli/fleet-aws';
import { UsageError } from '../../lib/cli/program';
import { mockedAwsClients } from '../support/aws-mocks';

describe('the AWS side of status and rotate-token', () => {
  const m = mockedAwsClients('eu-west-1');
  const clients = { autoScaling: m.autoScaling, ec2: m.ec2, secrets: m.secrets };

  beforeEach(() => m.resetAwsMocks());

  it('answers undefined for a group that does not exist, without asking EC2', async () => {
    m.asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    expect(await describeGroup(clients, 'gitlab-runner-fleet-x')).toBeUndefined();
    expect(m.ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('reads an empty group without describing instances', async () => {
    m.asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'g', Instances: [] } as never] });

    expect(await describeGroup(clients, 'g')).toEqual({ name: 'g', desired: 0, instances: [] });
  });

  it('turns a missing region and an access denial into user errors', async () => {
    await expect(aws('list things', () => Promise.reject(new Error('Region is missing')))).rejects.toThrow(
      new UsageError('no AWS region to list things: set AWS_REGION or pass --region'),
    );
    await expect(
      aws('list things', () => Promise.reject(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }))),
    ).rejects.toThrow('AWS denied list things: User is not authorized');
    const other = new Error('boom');
    await expect(aws('list things', () => Promise.reject(other))).rejects.toBe(other);
  });

  it('starts a refresh that replaces every instance and reads its status', async () => {
    m.asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    m.asgMock.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });

    expect(await startInstanceRefresh(clients, 'g', 50)).toBe('r-1');
    expect(await instanceRefreshStatus(clients, 'g', 'r-1')).toBe('Unknown');
    expect(m.asgMock.commandCalls(StartInstanceRefreshCommand)[0].args[0].input.Preferences).toMatchObject({ SkipMatching: false });
  });

  it('fails when AWS starts a refresh without an id', async () => {
    m.asgMock.on(StartInstanceRefreshCommand).resolves({});

    await expect(startInstanceRefresh(clients, 'g', 50)).rejects.toThrow('returned no refresh id');
  });

  it('writes the token as the secret string', async () => {
    m.secretsMock.on(PutSecretValueCommand).resolves({});

    await writeSecretToken(clients, 's', 'value');

    expect(m.secretsMock.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 's', SecretString: 'value' });
  });
});
