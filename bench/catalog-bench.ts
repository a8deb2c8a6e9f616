/**
 * Bench: synth time of the Service Catalog stack of examples/catalog.yaml (runner platform and
 * four fleet products as ProductStacks, launch roles), in process, median of a few runs, with
 * cdk-nag off and on. Called by bench/bench.ts; runnable alone with `tsx bench/catalog-bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { App } from 'aws-cdk-lib';
import { loadFleetConfig } from '../lib/config';
import { addFleetStacks } from '../lib/stacks/fleet-app';

export interface CatalogSynthTiming {
  readonly nag: boolean;
  readonly products: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
}

const CATALOG_CONFIG = join(__dirname, '..', 'examples', 'catalog.yaml');

/** Times `runs` synths of the catalog config's app (its one fleet, the shared stack, the catalog and launch roles stacks). */
export function timeCatalogSynth(nag: boolean, runs = 3): CatalogSynthTiming {
  const config = loadFleetConfig(CATALOG_CONFIG);
  const times: number[] = [];
  let products = 0;
  for (let i = 0; i < runs; i++) {
    const outdir = mkdtempSync(join(tmpdir(), 'bench-catalog-'));
    try {
      const started = performance.now();
      const app = new App({ outdir, builtinCloudFormationValidation: false, context: { 'aws:cdk:disable-creation-stack-traces': true } });
      const { catalog } = addFleetStacks(app, config, { nag });
      app.synth();
      times.push(performance.now() - started);
      products = 1 + Object.keys(catalog?.productStacks ?? {}).length;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { nag, products, runs, medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0] };
}

/** Prints the catalog synth section and returns its figures for bench/results.json. */
export function catalogSynthBench(): CatalogSynthTiming[] {
  console.log('\n## Catalog synth (examples/catalog.yaml: platform + 4 fleet products, in process, median of 3)');
  timeCatalogSynth(false, 1); // warm-up: module loading and Lambda bundling are not synth time
  const timings = [timeCatalogSynth(false), timeCatalogSynth(true)];
  for (const t of timings) {
    console.log(
      `cdk-nag ${t.nag ? 'on ' : 'off'}: ${t.products} products, median ${Math.round(t.medianMs)} ms, min ${Math.round(t.minMs)} ms`,
    );
  }
  return timings;
}

if (require.main === module) catalogSynthBench();
