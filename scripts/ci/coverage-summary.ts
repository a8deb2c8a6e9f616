/**
 * Prints the coverage gate's summary line from coverage/coverage-summary.json (written by
 * vitest's json-summary reporter). The thresholds themselves live in vitest.config.mts and
 * fail `vitest run --coverage` on their own; this only reports the figures.
 *
 * Usage: tsx scripts/ci/coverage-summary.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, summary } from './common';

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
  summary(
    'coverage',
    `lib/: ${describe('lines')}, ${describe('branches')}, ${describe('functions')}, ${describe('statements')}; thresholds lines>=90 branches>=90`,
  );
}

if (require.main === module) main();
