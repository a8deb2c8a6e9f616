/**
 * Gate: every synthesized stack fits AWS's quotas (scripts/ci/quotas.ts names each limit and its
 * source). Checks the bundled configs (fleet.config.yaml, examples/*) and a generated config of
 * 1,000 fleets; for that one the shared stack and one fleet stack are synthesized, since every
 * fleet stack has the same shape whatever the count (that one also carries a full dashboard, as the
 * first fleet stack of each chunk does), and account-wide counts are extrapolated.
 * Account quotas that AWS raises on request are reported, not failed. A bundled config the synth
 * gate already synthesized is measured from its output (cdk.out/ci/synth/<config>/, the templates
 * users deploy) rather than synthesized again; one it has not is synthesized here.
 *
 * Usage: tsx scripts/ci/quota-gate.ts [cdk.out dir ...]   (no argument: the configs above)
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadFleetConfig, parseFleetConfig } from '../../lib/config';
import { createFleetApp, fleetAppProps } from '../../lib/stacks/fleet-app';
import { FleetStack } from '../../lib/stacks/fleet-stack';
import { SharedStack } from '../../lib/stacks/shared-stack';
import { FLEETS_PER_DASHBOARD } from '../../lib/fleet/fleet-monitoring';
import { fleetStackName, sharedStackName } from '../../lib/identity/deployment';
import { bundledConfigs, configLabel, findTemplates, rel, summary, SYNTH_OUT } from './common';
import { exceeds, measureAccount, measureTemplate, worstPerQuota, type Measurement, type TemplateShape } from './quotas';

/** Fleets in the generated config: the supported maximum (docs/scaling-limits.md). */
export const GENERATED_FLEETS = 1000;

/** A config of `fleets` fleets as a big user would write it (one deployment name, shared schedule). */
export function generatedConfig(fleets: number): Record<string, unknown> {
  return {
    deployment: 'quota-check',
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper: { enabled: true },
    fleets: Array.from({ length: fleets }, (_, i) => ({
      name: `fleet-${String(i).padStart(4, '0')}`,
      computeType: i % 2 === 0 ? 'spot' : 'on-demand',
      instanceTypes: i % 2 === 0 ? ['m7g.large', 'm6g.large', 'c7g.large'] : ['m7g.large', 'm6g.large'],
      capacity: { min: 0, max: 10, desired: 2 },
      schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
    })),
  };
}

interface Checked {
  readonly label: string;
  readonly measurements: Measurement[];
}

function readTemplates(dir: string): Array<{ stack: string; template: TemplateShape; bytes: number }> {
  return findTemplates(dir).map((file) => ({
    stack: basename(file).replace(/\.template\.json$/, ''),
    template: JSON.parse(readFileSync(file, 'utf8')) as TemplateShape,
    bytes: statSync(file).size,
  }));
}

function checkDir(label: string, dir: string, fleetStackCopies = 1): Checked {
  const templates = readTemplates(dir);
  const measurements = templates.flatMap((t) => measureTemplate(t.stack, t.template, t.bytes));
  // With one fleet stack standing for many, the account counts take it that many times.
  const forAccount = templates.flatMap((t) =>
    fleetStackCopies > 1 && t.stack !== sharedStackName('quota-check')
      ? Array<TemplateShape>(fleetStackCopies).fill(t.template)
      : [t.template],
  );
  return { label, measurements: [...measurements, ...measureAccount(forAccount)] };
}

function synthBundled(config: string, outdir: string): void {
  createFleetApp(loadFleetConfig(config), { outdir, nag: false }).synth();
}

function synthGenerated(fleets: number, outdir: string): void {
  const config = parseFleetConfig(generatedConfig(fleets), `generated(${fleets})`);
  const app = new App({ outdir, ...fleetAppProps({ cloudFormationValidation: false }) });
  const shared = new SharedStack(app, sharedStackName(config.deployment), { config });
  const [fleet] = config.fleets;
  const stack = new FleetStack(app, fleetStackName(fleet.name, fleet.deployment), { fleet, gitlab: config.gitlab, defaultVpc: shared.vpc });
  // As in addFleetStacks: the first fleet stack of each chunk also carries that chunk's dashboard (the largest one).
  shared.monitoring?.addDashboard(stack, 'FleetsDashboard', config.fleets.slice(0, FLEETS_PER_DASHBOARD));
  app.synth();
}

const pct = (m: Measurement) => `${((100 * m.value) / m.quota.limit).toFixed(1)}%`;

function report(checked: Checked): { failures: number; notes: number } {
  console.log(`\n## ${checked.label}`);
  const worst = worstPerQuota(checked.measurements);
  const width = Math.max(...worst.map((m) => m.quota.what.length));
  for (const m of worst) {
    const flag = exceeds(m) ? (m.quota.adjustableAccountQuota ? 'NOTE' : 'FAIL') : 'ok  ';
    console.log(
      `${flag} ${m.quota.what.padEnd(width)}  ${String(m.value).padStart(8)} / ${String(m.quota.limit).padEnd(8)} ${pct(m).padStart(6)}  ${m.subject}`,
    );
  }
  const failures = checked.measurements.filter((m) => exceeds(m) && !m.quota.adjustableAccountQuota);
  const notes = worst.filter((m) => exceeds(m) && m.quota.adjustableAccountQuota);
  for (const m of failures)
    console.log(`FAIL ${m.subject}: ${m.quota.what} is ${m.value} ${m.quota.unit}, limit ${m.quota.limit} (${m.quota.source})`);
  for (const m of notes)
    console.log(`NOTE ${m.quota.what}: ${m.value} > ${m.quota.limit}; request an increase before deploying (${m.quota.source})`);
  return { failures: failures.length, notes: notes.length };
}

function main(): void {
  const dirs = process.argv.slice(2);
  const checked: Checked[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'quota-gate-'));
  try {
    if (dirs.length > 0) {
      for (const dir of dirs) checked.push(checkDir(rel(dir), dir));
    } else {
      let reused = 0;
      for (const config of bundledConfigs()) {
        const synthesized = join(SYNTH_OUT, configLabel(config));
        if (findTemplates(synthesized).length > 0) {
          reused++;
          checked.push(checkDir(rel(config), synthesized));
          continue;
        }
        const outdir = join(scratch, basename(config));
        synthBundled(config, outdir);
        checked.push(checkDir(rel(config), outdir));
      }
      console.log(`${reused} bundled config(s) measured from the synth gate's output in ${rel(SYNTH_OUT)}, the rest synthesized here`);
      const outdir = join(scratch, 'generated');
      synthGenerated(GENERATED_FLEETS, outdir);
      checked.push(
        checkDir(
          `generated config, ${GENERATED_FLEETS} fleets (shared stack + one fleet stack x ${GENERATED_FLEETS})`,
          outdir,
          GENERATED_FLEETS,
        ),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  let failures = 0;
  let notes = 0;
  for (const c of checked) {
    const r = report(c);
    failures += r.failures;
    notes += r.notes;
  }
  summary('quotas', `${checked.length} deployments, ${failures} over a quota, ${notes} adjustable account quotas to raise`);
  process.exit(failures > 0 ? 1 : 0);
}

if (require.main === module) main();
