import { describe, expect, it } from 'vitest';
import { createProgram, runProgram, UsageError, type CliOutput } from '../../lib/cli/program';
import { ConfigError } from '../../lib/config/errors';

function capture(): CliOutput & { text: () => string } {
  let text = '';
  return { out: (t) => (text += t), err: (t) => (text += t), text: () => text };
}

async function runWith(action: () => void) {
  const output = capture();
  const program = createProgram(output);
  program.command('boom').action(action);
  const code = await runProgram(program, ['node', 'runner-fleet', 'boom'], output);
  return { code, text: output.text() };
}

describe('runProgram', () => {
  it('prints a config error as its message alone and returns 1', async () => {
    const { code, text } = await runWith(() => {
      throw new ConfigError('x.yaml', [{ path: 'fleets', message: 'is required (array)' }]);
    });
    expect(code).toBe(1);
    expect(text).toBe('runner-fleet: x.yaml is not a valid fleet configuration (1 problem):\n  - fleets: is required (array)\n');
  });

  it('prints a usage error as its message alone and returns 1', async () => {
    const { code, text } = await runWith(() => {
      throw new UsageError('--thing must be blue');
    });
    expect([code, text]).toEqual([1, 'runner-fleet: --thing must be blue\n']);
  });

  it('prints an unexpected error with its stack and returns 70, because it is a bug', async () => {
    const { code, text } = await runWith(() => {
      throw new TypeError('undefined is not a function');
    });
    expect(code).toBe(70);
    expect(text).toMatch(/^runner-fleet: unexpected error \(please report it\):\nTypeError: undefined is not a function\n\s+at /);
  });

  it('prints a thrown non-Error value as text and returns 70', async () => {
    const { code, text } = await runWith(() => {
      throw 'plain string';
    });
    expect([code, text]).toEqual([70, 'runner-fleet: unexpected error (please report it):\nplain string\n']);
  });

  it('prints the message of an unexpected error that has no stack', async () => {
    const { code, text } = await runWith(() => {
      throw Object.assign(new RangeError('offset out of range'), { stack: undefined });
    });
    expect([code, text]).toEqual([70, 'runner-fleet: unexpected error (please report it):\noffset out of range\n']);
  });

  it('returns commander exit codes for help', async () => {
    const output = capture();
    expect(await runProgram(createProgram(output), ['node', 'runner-fleet', '--help'], output)).toBe(0);
    expect(output.text()).toContain('Usage: runner-fleet');
  });
});
