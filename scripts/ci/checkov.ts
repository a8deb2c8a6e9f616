/**
 * Gate: checkov (pinned in scripts/ci/requirements.txt) with `--framework cloudformation` on
 * every synthesized template. Skips live in .checkov.yaml, each with its reason. Any failed
 * check or template checkov cannot parse fails the gate.
 *
 * Usage: tsx scripts/ci/checkov.ts [dir ...]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { gateToolAndTemplates, plural, ROOT, run, summary } from './common';

interface CheckovCheck {
  readonly check_id: string;
  readonly check_name?: string;
  readonly file_path?: string;
  readonly resource?: string;
}

interface CheckovReport {
  readonly check_type?: string;
  readonly results?: { readonly failed_checks?: CheckovCheck[] };
  readonly summary?: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count?: number };
}

/** checkov prints one report object for one framework, a list for several, `{}`-ish summaries when nothing matched. */
export function parseCheckovJson(stdout: string): CheckovReport[] {
  const start = stdout.search(/^[[{]/m);
  if (start < 0) return [];
  const parsed = JSON.parse(stdout.slice(start)) as CheckovReport | CheckovReport[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

function main(): void {
  const { tool: checkov, templates } = gateToolAndTemplates('checkov', 'checkov');
  const configured = (parse(readFileSync(join(ROOT, '.checkov.yaml'), 'utf8')) as { 'skip-check'?: string[] } | null)?.['skip-check'] ?? [];
  const version = run(checkov, ['--version']).stdout.trim();
  console.log(`checkov ${version} on ${plural(templates.length, 'template')} (config: .checkov.yaml)`);
  const result = run(
    checkov,
    ['--config-file', '.checkov.yaml', '--framework', 'cloudformation', '--output', 'json', '--skip-download', '-f', ...templates],
    {
      env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false' },
    },
  );
  let reports: CheckovReport[];
  try {
    reports = parseCheckovJson(result.stdout);
  } catch {
    reports = [];
  }
  if (reports.length === 0 || result.status === null || result.status > 1) {
    console.log(`FAIL checkov exited ${result.status ?? result.signal} without a readable report`);
    process.stdout.write(result.stdout.slice(0, 20_000));
    process.stdout.write(result.stderr.slice(0, 20_000));
    summary('checkov', 'crashed');
    process.exit(1);
  }
  const totals = { passed: 0, failed: 0, skipped: 0, parsing_errors: 0, resources: 0 };
  for (const report of reports) {
    totals.passed += report.summary?.passed ?? 0;
    totals.failed += report.summary?.failed ?? 0;
    totals.skipped += report.summary?.skipped ?? 0;
    totals.parsing_errors += report.summary?.parsing_errors ?? 0;
    totals.resources += report.summary?.resource_count ?? 0;
    for (const check of report.results?.failed_checks ?? []) {
      console.log(`failed  ${check.check_id.padEnd(12)} ${check.resource ?? ''} in ${check.file_path ?? '?'}: ${check.check_name ?? ''}`);
    }
  }
  summary(
    'checkov',
    `${plural(templates.length, 'template')}, ${totals.resources} resources, ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} suppressed inline, ${plural(configured.length, 'check')} skipped in .checkov.yaml (${configured.join(', ') || 'none'}), ${totals.parsing_errors} parsing errors`,
  );
  process.exit(totals.failed > 0 || totals.parsing_errors > 0 ? 1 : 0);
}

if (require.main === module) main();
