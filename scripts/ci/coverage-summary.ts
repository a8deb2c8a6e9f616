/**
 * The coverage gate: reads coverage/coverage-summary.json, written by the test gate's single
 * `vitest run --coverage` (`npm test`), prints its summary line and fails below the thresholds
 * (the same ones vitest.config.mts enforces). The suite is not run a second time.
 *
 * Usage: tsx scripts/ci/coverage-summary.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, summary } from './common';
import { COVERAGE_THRESHOLDS } from './coverage-thresholds';

interface Metric {
  readonly total: number;
  readonly covered: number;
  readonly pct: number;
}

function main(): void {
  const file = join(ROOT, 'coverage', 'coverage-summary.json');
  if (!existsSync(file)) {
    summary('coverage', 'no coverage/coverage-summary.json');
    process.exit(1);
  }
  const total = (JSON.parse(readFileSync(file, 'utf8')) as { total: Record<'lines' | 'branches' | 'functions' | 'statements', Metric> })
    .total;
  const describe = (name: keyof typeof total) => `${name} ${total[name].pct}% (${total[name].covered}/${total[name].total})`;
  const { lines, branches } = COVERAGE_THRESHOLDS;
  summary(
    'coverage',
    `lib/: ${describe('lines')}, ${describe('branches')}, ${describe('functions')}, ${describe('statements')}; thresholds lines>=${lines} branches>=${branches}`,
  );
  const below = (['lines', 'branches'] as const).filter((name) => total[name].pct < COVERAGE_THRESHOLDS[name]);
  if (below.length > 0) {
    console.log(`FAIL coverage below the threshold: ${below.map(describe).join(', ')}`);
    process.exit(1);
  }
}

if (require.main === module) main();
