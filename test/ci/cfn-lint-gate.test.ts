/**
 * The cfn-lint gate must reject an invalid template, or a green CI run proves nothing.
 * Needs cfn-lint (installed into .venv by .ci/run); skipped where it is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCfnLintOutput } from '../../scripts/ci/cfn-lint';
import { findTool, ROOT } from '../../scripts/ci/common';

const BROKEN = join(ROOT, 'test', 'ci', 'fixtures', 'broken.template.json');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function runGate(template: string) {
  return spawnSync(TSX, ['scripts/ci/cfn-lint.ts', template], { cwd: ROOT, encoding: 'utf8' });
}

describe('parseCfnLintOutput', () => {
  it('classifies parseable findings by rule prefix', () => {
    const output = [
      'a.json:19:13:19:25:E3002:Additional properties are not allowed',
      'a.json:3:1:3:5:W2001:Parameter X not used',
      'a.json:1:1:1:2:I3011:note',
    ].join('\n');
    expect(parseCfnLintOutput(output).map((f) => [f.rule, f.level, f.line])).toEqual([
      ['E3002', 'error', 19],
      ['W2001', 'warning', 3],
      ['I3011', 'info', 1],
    ]);
  });
});

describe.runIf(findTool('cfn-lint') !== undefined)('cfn-lint gate', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cfn-lint-gate-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('fails on a template with a misspelled property and names it', () => {
    // GIVEN the fixture whose launch template says HttpTokenz instead of HttpTokens
    // WHEN the gate lints it
    const result = runGate(BROKEN);
    // THEN it exits non-zero with an error for that property
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^error +E3002 .*broken\.template\.json:\d+ .*'HttpTokenz' was unexpected/m);
    expect(result.stdout).toMatch(/^SUMMARY cfn-lint: 1 template, 1 error, /m);
  });

  it('passes the same template once the property is spelled right', () => {
    // GIVEN the fixture with only the typo corrected
    const fixed = join(tmp, 'fixed.template.json');
    writeFileSync(fixed, readFileSync(BROKEN, 'utf8').replace('"HttpTokenz"', '"HttpTokens"'));
    // WHEN linted / THEN the gate is green, so the failure above is the typo's
    const result = runGate(fixed);
    expect(result.stdout).toMatch(/^SUMMARY cfn-lint: 1 template, 0 errors, 0 warnings/m);
    expect(result.status).toBe(0);
  });
});
