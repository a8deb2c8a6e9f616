/**
 * The `runner-fleet` command line: a commander program that subcommands register on, and the
 * error handling every subcommand shares. User mistakes (a bad config, a missing price, a bad
 * option) print one message to stderr and exit 1, never a stack trace; only a bug does.
 *
 * Loads no CDK code and no AWS SDK, so the CLI starts fast. A subcommand that needs the SDK
 * imports it dynamically when it runs.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors';
import { CostError } from '../cost/errors';
import { version as packageVersion } from '../../package.json';

export const PROGRAM_NAME = 'runner-fleet';

/** Where the CLI writes; replaceable in tests. */
export interface CliOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const PROCESS_OUTPUT: CliOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * A mistake in how the CLI was called that commander cannot catch by itself (e.g. a value
 * that only fails against the config). Its message names the option and the allowed values.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Ends a command with a specific exit code and a one-line message, after the command printed what
 * it could (e.g. `orphans` when some fleets could not be checked).
 */
export class ExitCodeError extends Error {
  constructor(
    message: string,
    public readonly exitCode: number,
  ) {
    super(message);
    this.name = 'ExitCodeError';
  }
}

/** The bare program; register subcommands on it (`registerCostCommand(program)`), then {@link runProgram}. */
export function createProgram(output: CliOutput = PROCESS_OUTPUT): Command {
  return new Command(PROGRAM_NAME)
    .description('Fleets of self-hosted GitLab CI runners on AWS: validate the config, estimate costs, inspect runners.')
    .version(packageVersion, '-V, --version', 'print the runner-fleet version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride();
}

/** True for errors that are the user's to fix, whose message is the whole story. */
export function isUserError(error: unknown): error is Error {
  return error instanceof ConfigError || error instanceof CostError || error instanceof UsageError;
}

/**
 * Runs the program and returns the exit code: 0 on success, 1 for a user mistake (message only),
 * 70 for an unexpected error (with its stack, because that is a bug to report).
 */
export async function runProgram(program: Command, argv: readonly string[], output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has already printed its own message (or the help/version text).
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ExitCodeError) {
      output.err(`${PROGRAM_NAME}: ${error.message}\n`);
      return error.exitCode;
    }
    if (isUserError(error)) {
      output.err(`${PROGRAM_NAME}: ${error.message}\n`);
      return 1;
    }
    output.err(
      `${PROGRAM_NAME}: unexpected error (please report it):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 70;
  }
}
