/**
 * The AWS side of `runner-fleet status` and `runner-fleet rotate-token`, loaded on demand so the
 * other commands never load the SDK: the fleet's group and instances, its token secrets, and
 * instance refreshes. Credential problems become one-line user errors.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tokenFromSecretString } from '../lambda/shared/secrets';
import { instanceRefreshStatus as refreshStatusOf, startRotationRefresh } from '../lambda/shared/instance-refresh';
import { UsageError } from './program';
import type { StatusGroup, StatusInstance } from './status-report';

export interface FleetAwsClients {
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly secrets: SecretsManagerClient;
}

export function fleetAwsClients(region?: string): FleetAwsClients {
  const config = region ? { region } : {};
  return { autoScaling: new AutoScalingClient(config), ec2: new EC2Client(config), secrets: new SecretsManagerClient(config) };
}

/** Runs an AWS call, turning missing credentials or region into a user error with the fix. */
export async function aws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e?.name === 'CredentialsProviderError' || /credentials/i.test(e?.message ?? '')) {
      throw new UsageError(
        `no AWS credentials to ${what}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION or --region`,
      );
    }
    if (/region/i.test(e?.message ?? '') && /missing|not configured/i.test(e?.message ?? '')) {
      throw new UsageError(`no AWS region to ${what}: set AWS_REGION or pass --region`);
    }
    if (e?.name === 'AccessDeniedException' || e?.name === 'AccessDenied' || e?.name === 'UnauthorizedOperation') {
      throw new UsageError(`AWS denied ${what}: ${e.message ?? e.name}`);
    }
    throw error;
  }
}

export async function describeGroup(clients: FleetAwsClients, groupName: string): Promise<StatusGroup | undefined> {
  const out = await aws(`describe group ${groupName}`, () =>
    clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] })),
  );
  const group = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === groupName);
  if (!group) return undefined;
  const members = group.Instances ?? [];
  const ids = members.map((i) => i.InstanceId).filter((id): id is string => Boolean(id));
  const details = new Map<string, { launchTime?: Date; spot: boolean }>();
  if (ids.length > 0) {
    const described = await aws('describe the fleet instances', () => clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids })));
    for (const reservation of described.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (instance.InstanceId)
          details.set(instance.InstanceId, { launchTime: instance.LaunchTime, spot: instance.InstanceLifecycle === 'spot' });
      }
    }
  }
  const instances: StatusInstance[] = members
    .filter((m) => m.InstanceId)
    .map((m) => ({
      id: m.InstanceId!,
      lifecycleState: m.LifecycleState ?? 'unknown',
      computeType: details.get(m.InstanceId!)?.spot ? 'spot' : 'on-demand',
      availabilityZone: m.AvailabilityZone ?? '-',
      launchTime: details.get(m.InstanceId!)?.launchTime,
    }));
  return { name: groupName, desired: group.DesiredCapacity ?? 0, instances };
}

export async function readSecretToken(clients: FleetAwsClients, secretName: string): Promise<string> {
  const out = await aws(`read secret ${secretName}`, () => clients.secrets.send(new GetSecretValueCommand({ SecretId: secretName })));
  return tokenFromSecretString(secretName, out.SecretString);
}

export async function writeSecretToken(clients: FleetAwsClients, secretName: string, token: string): Promise<void> {
  await aws(`write secret ${secretName}`, () =>
    clients.secrets.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: token })),
  );
}

export async function startInstanceRefresh(clients: FleetAwsClients, groupName: string, minHealthyPercentage: number): Promise<string> {
  return aws(`start an instance refresh of ${groupName}`, () => startRotationRefresh(clients.autoScaling, groupName, minHealthyPercentage));
}

/** Status of an instance refresh: Pending, InProgress, Successful, Failed, Cancelled, ... */
export async function instanceRefreshStatus(clients: FleetAwsClients, groupName: string, refreshId: string): Promise<string> {
  return aws(`describe the instance refresh of ${groupName}`, () => refreshStatusOf(clients.autoScaling, groupName, refreshId));
}
