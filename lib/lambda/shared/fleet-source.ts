/**
 * Where a fleet Lambda learns which fleets it serves. Two sources:
 * - the handler config file written at synth (the fleets of a `cdk deploy` app), and
 * - the SSM fleet registry (fleets launched later from the Service Catalog), read per invocation
 *   so a fleet launched a minute ago is covered.
 *
 * Registry entries only count for the GitLab the Lambda was deployed for (its config file's
 * gitlabUrl): a token is never sent to a URL that came from anywhere else. Entries for another
 * GitLab, and malformed entries, are reported and skipped.
 */
import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { parseFleetRegistryEntry } from '../../identity/fleet-registry';
import type { FleetTarget, HandlerConfig } from './handler-config';
import type { Logger } from './log';

/** The fleets a handler serves now, and the registry entries it ignored (with why). */
export interface FleetListing {
  readonly fleets: readonly FleetTarget[];
  readonly ignored: readonly string[];
}

/** A pluggable source of fleets. */
export interface FleetSource {
  list(): Promise<FleetListing>;
}

/** The fleets written into the handler config at synth. */
export function configFleets(config: Pick<HandlerConfig, 'fleets'>): FleetSource {
  return { list: async () => ({ fleets: config.fleets, ignored: [] }) };
}

/** Parameters as SSM returns them (name and value). */
export interface RegistryParameter {
  readonly name: string;
  readonly value: string;
}

/** Decides which registry entries a Lambda for `gitlabUrl` serves. Pure. */
export function registryListing(parameters: readonly RegistryParameter[], gitlabUrl: string): FleetListing {
  const fleets: FleetTarget[] = [];
  const ignored: string[] = [];
  const expected = gitlabUrl.replace(/\/+$/, '');
  for (const parameter of [...parameters].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const entry = parseFleetRegistryEntry(parameter.name, parameter.value);
    if (typeof entry === 'string') ignored.push(entry);
    else if (entry.gitlabUrl.replace(/\/+$/, '') !== expected)
      ignored.push(`${parameter.name}: registered for ${entry.gitlabUrl}, this platform serves ${expected}`);
    else fleets.push({ name: entry.name, autoScalingGroupName: entry.autoScalingGroupName, tokenSecretName: entry.tokenSecretName });
  }
  return { fleets, ignored };
}

/** The SSM registry under `path`, filtered for the config's GitLab, plus any fleets in the config itself. */
export function registryFleets(ssm: SSMClient, path: string, config: Pick<HandlerConfig, 'fleets' | 'gitlabUrl'>): FleetSource {
  return {
    list: async () => {
      const parameters: RegistryParameter[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: false, NextToken: nextToken, MaxResults: 10 }));
        for (const p of page.Parameters ?? []) if (p.Name && p.Value !== undefined) parameters.push({ name: p.Name, value: p.Value });
        nextToken = page.NextToken;
      } while (nextToken);
      const listing = registryListing(parameters, config.gitlabUrl);
      const known = new Set(config.fleets.map((f) => f.autoScalingGroupName));
      return { fleets: [...config.fleets, ...listing.fleets.filter((f) => !known.has(f.autoScalingGroupName))], ignored: listing.ignored };
    },
  };
}

/**
 * The config with the fleets the source lists now (the config unchanged without a source);
 * ignored registry entries are logged as errors, so a fleet left out is never silent.
 */
export async function withCurrentFleets<C extends Pick<HandlerConfig, 'fleets'>>(
  config: C,
  source: FleetSource | undefined,
  log: Logger,
): Promise<C> {
  if (!source) return config;
  const listing = await source.list();
  for (const reason of listing.ignored) log('error', 'fleet registry entry ignored', { outcome: 'ignored', reason });
  return { ...config, fleets: listing.fleets };
}
