/**
 * Runs `runner-fleet` in process, the way bin/runner-fleet.ts does, with the commands a test
 * registers (and the overrides it gives them), and captures what the program writes.
 */
import type { Command } from 'commander';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(register: (program: Command, output: CliOutput) => void, argv: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const output: CliOutput = { out: (text) => (stdout += text), err: (text) => (stderr += text) };
  const program = createProgram(output);
  register(program, output);
  const code = await runProgram(program, ['node', 'runner-fleet', ...argv], output);
  return { code, stdout, stderr };
}
