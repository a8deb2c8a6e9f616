#!/usr/bin/env node
/**
 * CDK app entry point: `npx cdk synth [-c config=path]`. Loads and validates the fleet config,
 * prints a fleet summary to stderr and builds one stack per fleet plus the shared stack, with
 * the cdk-nag AwsSolutions checks. No account or region: the stacks are environment-agnostic.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, DEFAULT_CONFIG_FILE, loadFleetConfig } from '../lib/config';
import { addFleetStacks } from '../lib/stacks/fleet-app';
import { formatFleetSummary } from '../lib/stacks/fleet-summary';

const app = new App();
const configFile = String(app.node.tryGetContext('config') ?? DEFAULT_CONFIG_FILE);

let config;
try {
  config = loadFleetConfig(configFile);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

process.stderr.write(`${configFile}: ${config.fleets.length} fleet${config.fleets.length === 1 ? '' : 's'}\n${formatFleetSummary(config)}`);
addFleetStacks(app, config, { nag: true });
app.synth();
