/**
 * `runner-fleet validate`: checks a config file the way synth does, in the time `cost` takes
 * (no CDK), and prints what it resolves to, every default filled in.
 */
import { Option, type Command } from 'commander';
import { fleetGroupCapacity, neverRunsWarning, type FleetConfig, type FleetSpec } from '../config/fleet-config';
import { ConfigError } from '../config/errors';
import { scheduledGroupSizes } from '../scaling/scheduled-sizes';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { ExitCodeError, PROCESS_OUTPUT, type CliOutput } from './program';

export const VALIDATE_FORMATS = ['text', 'json'] as const;
export type ValidateFormat = (typeof VALIDATE_FORMATS)[number];

export interface ValidateOptions {
  readonly config: string;
  readonly format: ValidateFormat;
}

/** Adds the `validate` subcommand to the program. */
export function registerValidateCommand(program: Command, output: CliOutput = PROCESS_OUTPUT): Command {
  return program
    .command('validate')
    .description('Check a fleet configuration without synthesizing, and print what it resolves to, defaults included.')
    .option('-c, --config <file>', 'fleet configuration file', DEFAULT_CONFIG_FILE)
    .addOption(new Option('-f, --format <format>', 'output format').choices(VALIDATE_FORMATS).default('text'))
    .action((options: ValidateOptions) => {
      const result = validateConfig(options.config);
      if (options.format === 'json') output.out(`${JSON.stringify(result.json, null, 2)}\n`);
      if (!result.config) {
        // With --format json the problems are on stdout already; stderr keeps the one message.
        if (options.format === 'json') throw new ExitCodeError(result.error.message, 1);
        throw result.error;
      }
      for (const warning of result.warnings) output.err(`warning: ${warning}\n`);
      if (options.format === 'text') output.out(validText(options.config, result.config));
    });
}

type ValidateResult =
  | { readonly config: FleetConfig; readonly warnings: string[]; readonly json: unknown }
  | { readonly config?: undefined; readonly error: ConfigError; readonly json: unknown };

/** Loads and validates; a ConfigError becomes a result, anything else is a bug and propagates. */
export function validateConfig(file: string): ValidateResult {
  try {
    const config = loadFleetConfig(file);
    const warnings = config.fleets.flatMap((fleet) => neverRunsWarning(fleet) ?? []);
    const fleets = config.fleets.map((fleet) => ({ ...fleet, autoScalingGroup: groupJson(fleet) }));
    return { config, warnings, json: { file, valid: true, warnings, config: { ...config, fleets } } };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { error, json: { file, valid: false, problems: error.problems } };
  }
}

/** The group sizes and scheduled actions the fleet's stack will deploy (the catch-up applies the one in force at deploy time). */
function groupJson(fleet: FleetSpec) {
  const plan = fleetGroupCapacity(fleet);
  return {
    minSize: plan.minSize,
    maxSize: fleet.capacity.max,
    desiredCapacity: plan.desiredCapacity ?? null,
    scheduledActions: scheduledGroupSizes(fleet).map((s) => ({ cron: s.change.cron, desired: s.desiredCapacity, minSize: s.minSize })),
  };
}

function validText(file: string, config: FleetConfig): string {
  const lines = [`${file}: valid, ${config.fleets.length} fleet${config.fleets.length === 1 ? '' : 's'} for ${config.gitlab.url}`];
  for (const fleet of config.fleets) {
    const plan = fleetGroupCapacity(fleet);
    const size =
      plan.desiredCapacity !== undefined ? `${plan.desiredCapacity} instance(s) all week` : `${plan.changes.length} scheduled changes`;
    lines.push(
      `  ${fleet.name}: ${fleet.computeType} ${fleet.architecture} ${fleet.instanceTypes.join(',')}; ` +
        `group ${plan.minSize}..${fleet.capacity.max}, ${size}; tags ${fleet.runnerTags.join(',')}`,
    );
  }
  lines.push('Everything it resolves to, defaults included: runner-fleet validate --format json');
  return `${lines.join('\n')}\n`;
}
