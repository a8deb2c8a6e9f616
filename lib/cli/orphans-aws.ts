/**
 * The AWS side of `runner-fleet orphans`, loaded on demand: Secrets Manager for tokens not in
 * the environment, Auto Scaling and EC2 for the fleets' instances, with local credentials.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { listExistingInstanceIds } from '../lambda/orphan-reaper/inventory';
import type { FleetTarget } from '../lambda/shared/handler-config';
import { tokenFromSecretString } from '../lambda/shared/secrets';

export interface AwsClients {
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly secrets: SecretsManagerClient;
}

export function awsClients(region?: string): AwsClients {
  const config = region ? { region } : {};
  return { autoScaling: new AutoScalingClient(config), ec2: new EC2Client(config), secrets: new SecretsManagerClient(config) };
}

export async function readToken(clients: AwsClients, secretName: string): Promise<string> {
  const out = await clients.secrets.send(new GetSecretValueCommand({ SecretId: secretName }));
  return tokenFromSecretString(secretName, out.SecretString);
}

export function existingInstances(clients: AwsClients, fleet: FleetTarget): Promise<string[]> {
  return listExistingInstanceIds(clients.autoScaling, clients.ec2, fleet);
}
