#!/usr/bin/env node
/**
 * CDK app entry point: `npx cdk synth [-c config=path]`. Loads and validates the fleet config,
 * prints a fleet summary to stderr and builds one stack per fleet plus the shared stack, with
 * the cdk-nag AwsSolutions checks. No account or region: the stacks are environment-agnostic.
 * CDK's built-in CloudFormation validation runs only with CDK_VALIDATION=true (see fleet-app.ts).
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, DEFAULT_CONFIG_FILE, loadFleetConfig } from '../lib/config';
import { addFleetStacks, fleetAppProps } from '../lib/stacks/fleet-app';
import { formatFleetSummary } from '../lib/stacks/fleet-summary';

// CDK's built-in CloudFormation validation only warns by default and costs seconds per synth;
// CI runs it as its own gate with CDK_VALIDATION=true, which also makes its findings errors.
const app = new App(fleetAppProps({ cloudFormationValidation: process.env.CDK_VALIDATION === 'true' }));
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
