/**
 * What both handlers need in the Lambda runtime: the deployed handler config shipped beside
 * the bundle, and AWS SDK / GitLab clients created once per container and reused across
 * invocations.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { registryFleets, type FleetSource } from './fleet-source';
import { GitLabRunnerClient } from '../../gitlab/client';
import { HANDLER_CONFIG_FILE, parseHandlerConfig, type HandlerConfig } from './handler-config';
import { SecretsManagerTokens, type TokenSource } from './secrets';

export interface RuntimeClients {
  readonly config: HandlerConfig;
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly gitlab: GitLabRunnerClient;
  /** A fresh token source per invocation, so rotated tokens are picked up. */
  readonly tokens: () => TokenSource;
  /** The fleet registry, when the config names one; otherwise the config's own fleets are all there is. */
  readonly fleetSource?: FleetSource;
}

/** Builds the runtime clients from the handler config in `directory` (the bundle's own). */
export function runtimeClients(directory: string, gitlabTimeoutMs: number): RuntimeClients {
  const config = parseHandlerConfig(readFileSync(join(directory, HANDLER_CONFIG_FILE), 'utf8'));
  const secrets = new SecretsManagerClient({});
  return {
    config,
    autoScaling: new AutoScalingClient({}),
    ec2: new EC2Client({}),
    gitlab: new GitLabRunnerClient({ baseUrl: config.gitlabUrl, timeoutMs: gitlabTimeoutMs, maxAttempts: 4 }),
    tokens: () => new SecretsManagerTokens(secrets),
    fleetSource: config.registryPath ? registryFleets(new SSMClient({}), config.registryPath, config) : undefined,
  };
}
