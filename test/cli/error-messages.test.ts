/**
 * The error-message table (issue 14): every broken config a newcomer tripped over, with the exact
 * message `runner-fleet validate` prints, its exit code, and no library wording or stack trace.
 * The same loader serves `cost`, `orphans` and synth, so these are their messages too.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import { registerValidateCommand } from '../../lib/cli/validate-command';

const dir = mkdtempSync(join(tmpdir(), 'error-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLEET = `gitlab: { url: https://gitlab.example.com }
fleets:
  - name: arm-spot
    computeType: spot
    instanceTypes: [m7g.large]
`;
const OFFICE_HOURS = "{ timeZone: UTC, windows: [{ days: mon-fri, start: '08:00', end: '18:00'";
const INVALID = (file: string, problems: string[]) =>
  `runner-fleet: ${join(dir, file)} is not a valid fleet configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
  problems.map((p) => `  - ${p}\n`).join('');

interface BrokenConfig {
  readonly what: string;
  readonly file: string;
  /** File content; undefined for no file at all, null for a folder of that name. */
  readonly content: string | undefined | null;
  readonly stderr: string;
}

const TABLE: BrokenConfig[] = [
  {
    what: 'a tab in the YAML: the first syntax error, with line, column and the line, and nothing after it',
    file: 'tab.yaml',
    content: 'gitlab:\n\turl: https://gitlab.example.com\nfleets: []\n',
    stderr: `runner-fleet: ${join(dir, 'tab.yaml')}: YAML syntax error at line 2, column 1: tabs are not allowed as indentation\n  2 | →url: https://gitlab.example.com\n    | ^\n`,
  },
  {
    what: 'an unclosed flow sequence',
    file: 'unclosed.yaml',
    content: 'gitlab: [unclosed\n',
    stderr: `runner-fleet: ${join(dir, 'unclosed.yaml')}: YAML syntax error at line 1, column 18: flow sequence in block collection must be sufficiently indented and end with a ]\n  1 | gitlab: [unclosed\n    |                  ^\n`,
  },
  {
    what: 'negative capacity: each value once at its own key, nothing about onDemandBase that the file does not set',
    file: 'negative.yaml',
    content: `${FLEET}    capacity: { min: -1, max: -5 }\n`,
    stderr: INVALID('negative.yaml', [
      'fleets[0].capacity.max: -5 must be at least 1; to park a fleet (no instances, no cost), keep max and set capacity.desired and capacity.min to 0',
      'fleets[0].capacity.min: -1 must be at least 0',
    ]),
  },
  {
    what: 'capacity.desired above max: reported at capacity.desired, not at the window that inherits it',
    file: 'desired.yaml',
    content: `${FLEET}    capacity: { max: 2, desired: 5 }\n    schedule: ${OFFICE_HOURS} }] }\n`,
    stderr: INVALID('desired.yaml', ['fleets[0].capacity.desired: desired (5) must be between min (0, the default) and max (2)']),
  },
  {
    what: 'a default desired below the written min: the default is labelled as such',
    file: 'min.yaml',
    content: `${FLEET}    capacity: { min: 3, max: 4 }\n`,
    stderr: INVALID('min.yaml', [
      'fleets[0].capacity.min: desired (1, the default) must be between min (3) and max (4); set capacity.desired',
    ]),
  },
  {
    what: "a window's own desired above max",
    file: 'window.yaml',
    content: `${FLEET}    capacity: { max: 2 }\n    schedule: ${OFFICE_HOURS}, desired: 3 }] }\n`,
    stderr: INVALID('window.yaml', [
      'fleets[0].schedule.windows[0].desired: desired (3) must be between capacity.min (0, the default) and capacity.max (2)',
    ]),
  },
  {
    what: 'max 0: says how to park a fleet',
    file: 'max0.yaml',
    content: `${FLEET}    capacity: { max: 0 }\n`,
    stderr: INVALID('max0.yaml', [
      'fleets[0].capacity.max: 0 must be at least 1; to park a fleet (no instances, no cost), keep max and set capacity.desired and capacity.min to 0',
    ]),
  },
  {
    what: 'numbers out of bounds, in words',
    file: 'bounds.yaml',
    content: `${FLEET}    capacity: { max: 2 }\n    concurrency: 101\n    volumeSizeGiB: 4\n    onDemandBase: -1\n`,
    stderr: INVALID('bounds.yaml', [
      'fleets[0].concurrency: 101 must be at most 100',
      'fleets[0].onDemandBase: -1 must be at least 0',
      'fleets[0].volumeSizeGiB: 4 must be at least 8',
    ]),
  },
  {
    what: 'empty lists, in words',
    file: 'lists.yaml',
    content: 'gitlab: { url: https://gitlab.example.com }\nfleets: []\n',
    stderr: INVALID('lists.yaml', ['fleets: [] must list at least 1 entry']),
  },
  {
    what: 'no instance types',
    file: 'types.yaml',
    content:
      'gitlab: { url: https://gitlab.example.com }\nfleets:\n  - { name: a1, computeType: spot, instanceTypes: [], capacity: { max: 2 } }\n',
    stderr: INVALID('types.yaml', ['fleets[0].instanceTypes: [] must list at least 1 entry']),
  },
  {
    what: 'a secret name with a space',
    file: 'secret.yaml',
    content: `${FLEET}    capacity: { max: 2 }\n    runnerTokenSecretName: 'has space'\n`,
    stderr: INVALID('secret.yaml', [
      'fleets[0].runnerTokenSecretName: "has space" must be a Secrets Manager name: 1-512 characters of letters, digits and / _ + = . @ -',
    ]),
  },
  {
    what: 'an empty file',
    file: 'empty.yaml',
    content: '',
    stderr: `runner-fleet: ${join(dir, 'empty.yaml')}: the file is empty (nothing but blank lines or comments); start from fleet.config.yaml or a file in examples/\n`,
  },
  {
    what: 'a file of comments only',
    file: 'comments.yaml',
    content: '# fleets go here\n\n# later\n',
    stderr: `runner-fleet: ${join(dir, 'comments.yaml')}: the file is empty (nothing but blank lines or comments); start from fleet.config.yaml or a file in examples/\n`,
  },
  {
    what: 'a list instead of settings',
    file: 'list.yaml',
    content: '- gitlab\n- fleets\n',
    stderr: INVALID('list.yaml', ['the file must hold settings such as gitlab: and fleets:, but holds a list']),
  },
  {
    what: 'a broken .json file, reported as JSON',
    file: 'broken.json',
    content: '{\n  "gitlab": { "url": "https://gitlab.example.com" },\n  "fleets": [],\n}\n',
    stderr: `runner-fleet: ${join(dir, 'broken.json')}: JSON syntax error at line 4, column 1: expected double-quoted property name\n  4 | }\n    | ^\n`,
  },
  {
    what: 'a missing file: "not found", not "not a valid fleet configuration"',
    file: 'missing.yaml',
    content: undefined,
    stderr: `runner-fleet: ${join(dir, 'missing.yaml')}: file not found; pass the path of your config with --config <file> (the default is fleet.config.yaml in the current folder)\n`,
  },
  {
    what: 'a folder instead of a file, without EISDIR',
    file: 'configs',
    content: null,
    stderr: `runner-fleet: ${join(dir, 'configs')}: is a folder, not a file; pass the config file inside it, e.g. --config ${join(dir, 'configs')}/fleet.config.yaml\n`,
  },
];

for (const entry of TABLE) {
  if (entry.content === null) mkdirSync(join(dir, entry.file));
  else if (entry.content !== undefined) writeFileSync(join(dir, entry.file), entry.content);
}

async function validate(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const output: CliOutput = { out: (t) => (stdout += t), err: (t) => (stderr += t) };
  const program = createProgram(output);
  registerValidateCommand(program, output);
  const code = await runProgram(program, ['node', 'runner-fleet', 'validate', ...args], output);
  return { code, stdout, stderr };
}

/** Wording of zod, Node's fs, or the YAML parser that a person should never see. */
const LIBRARY_WORDING = /Too (small|big)|expected (number|array|string) to|Invalid (input|string)|EISDIR|ENOENT|must be an object/;

describe('error-message table: runner-fleet validate on broken configs', () => {
  it.each(TABLE)('$what', async (entry) => {
    // WHEN the broken file is validated
    const { code, stdout, stderr } = await validate('--config', join(dir, entry.file));
    // THEN it exits 1 with exactly this message on stderr, nothing on stdout, no stack trace
    expect(stderr).toBe(entry.stderr);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('uses no library wording and ends no line with a dangling colon, in any message of the table', () => {
    for (const entry of TABLE) {
      expect(entry.stderr).not.toMatch(LIBRARY_WORDING);
      // Only the "N problems:" heading may end with a colon: it introduces the list below it.
      const lines = entry.stderr.trimEnd().split('\n');
      for (const line of lines.filter((l) => !/ \(\d+ problems?\):$/.test(l))) expect(line).not.toMatch(/:$/);
    }
  });

  it('prints the problems as JSON on stdout with --format json, and still exits 1', async () => {
    const { code, stdout } = await validate('--config', join(dir, 'max0.yaml'), '--format', 'json');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      file: join(dir, 'max0.yaml'),
      valid: false,
      problems: [{ path: 'fleets[0].capacity.max', message: expect.stringMatching(/^0 must be at least 1; to park a fleet/) }],
    });
  });
});
