/**
 * Gate: cfn-lint (pinned in scripts/ci/requirements.txt, installed into .venv by .ci/run) on
 * every *.template.json under the given directories (default: cdk.out/ci/synth).
 * Rules ignored for a reason live in .cfnlintrc.yaml. Errors and warnings fail the gate
 * (a warning is either fixed or ignored there with its reason); informational findings are
 * printed and counted only.
 *
 * Usage: tsx scripts/ci/cfn-lint.ts [dir|template ...]
 */
import { resolve } from 'node:path';
import { gateToolAndTemplates, plural, rel, run, summary } from './common';

export interface CfnLintFinding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly level: 'error' | 'warning' | 'info';
  readonly message: string;
}

/** Parses `cfn-lint --format parseable` lines: `file:line:col:endLine:endCol:RULE:message`. */
export function parseCfnLintOutput(output: string): CfnLintFinding[] {
  const findings: CfnLintFinding[] = [];
  for (const line of output.split('\n')) {
    const match = /^(.+?):(\d+):\d+:\d+:\d+:([EWI]\d+):(.*)$/.exec(line.trim());
    if (!match) continue;
    const rule = match[3];
    findings.push({
      file: match[1],
      line: Number(match[2]),
      rule,
      level: rule.startsWith('E') ? 'error' : rule.startsWith('W') ? 'warning' : 'info',
      message: match[4],
    });
  }
  return findings;
}

function main(): void {
  const { tool: cfnLint, templates } = gateToolAndTemplates('cfn-lint', 'cfn-lint');
  const version = run(cfnLint, ['--version']).stdout.trim();
  console.log(`${version} on ${plural(templates.length, 'template')} (config: .cfnlintrc.yaml)`);
  // .cfnlintrc.yaml is picked up from the working directory, the repo root.
  const result = run(cfnLint, ['--format', 'parseable', '--', ...templates]);
  const findings = parseCfnLintOutput(result.stdout);
  for (const finding of findings) {
    console.log(`${finding.level.padEnd(7)} ${finding.rule.padEnd(6)} ${rel(resolve(finding.file))}:${finding.line} ${finding.message}`);
  }
  // cfn-lint exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 is a crash.
  const crashed = result.status === null || (result.status & 1) === 1 || (result.status !== 0 && findings.length === 0);
  if (crashed) {
    console.log(`FAIL cfn-lint exited ${result.status ?? result.signal}`);
    process.stdout.write(result.stdout);
    process.stdout.write(result.stderr);
  }
  const count = (level: CfnLintFinding['level']) => findings.filter((f) => f.level === level).length;
  const errors = count('error');
  const warnings = count('warning');
  summary(
    'cfn-lint',
    `${plural(templates.length, 'template')}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${count('info')} informational`,
  );
  process.exit(crashed || errors > 0 || warnings > 0 ? 1 : 0);
}

if (require.main === module) main();
