import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { differingFiles, digestTree } from '../../scripts/ci/determinism';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'determinism-test-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

describe('determinism gate comparison', () => {
  it('finds no difference between byte-identical trees', () => {
    const files = { 'a.template.json': '{}', 'asset.1/index.js': 'x' };

    expect(differingFiles(digestTree(tree(files)), digestTree(tree(files)))).toEqual([]);
  });

  it('names a changed file and a file present on one side only', () => {
    const a = digestTree(tree({ 'a.template.json': '{}', 'asset.1/index.js': 'x' }));
    const b = digestTree(tree({ 'a.template.json': '{ }', 'asset.2/index.js': 'x' }));

    expect(differingFiles(a, b)).toEqual(['a.template.json', 'asset.1/index.js', 'asset.2/index.js']);
  });

  it('leaves out the timing counters CDK writes only when a synth was slow, and still compares every other file', () => {
    // GIVEN two synths of which only the slower one wrote its timings
    const a = digestTree(tree({ 'a.template.json': '{}', 'performance-counters.json': '{"counters":{"synth":21000}}' }));
    const b = digestTree(tree({ 'a.template.json': '{ }' }));

    // THEN the timings are not a difference, the template is
    expect(differingFiles(a, b)).toEqual(['a.template.json']);
  });
});
