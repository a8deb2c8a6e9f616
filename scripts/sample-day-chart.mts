/**
 * Renders docs/scaling-sample-day.svg: one simulated Tuesday of the bundled spot fleet under
 * demand scaling (capacity in slots, busy slots, queued jobs over 24 h), computed by the same
 * pure scaling function the scaler Lambda runs, drawn by vega-lite (SVG, headless).
 *
 * Usage: npm run chart   (tsx scripts/sample-day-chart.mts)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { loadFleetConfig } from '../lib/config/load.js';
import { envelopeFleetOf, scalingSettingsOf } from '../lib/scaling/fleet.js';
import { simulateFleet, type SimulatedJob } from '../lib/scaling/simulate.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const TUESDAY = 24 * 60;

/** A recognisable day: a morning ramp, steady work, a lunch dip, a release burst at 20:00. */
function sampleJobs(): SimulatedJob[] {
  const perHour = [0, 0, 0, 0, 0, 0, 1, 2, 20, 40, 45, 40, 15, 35, 45, 40, 30, 15, 4, 2, 60, 3, 1, 0];
  const jobs: SimulatedJob[] = [];
  perHour.forEach((count, hour) => {
    for (let i = 0; i < count; i++) {
      // Deterministic spread and lengths (8-16 min), so the chart only changes when the code does.
      jobs.push({ arrival: hour * 3600 + Math.floor(((i + 0.5) * 3600) / count), durationSeconds: 480 + ((i * 97) % 9) * 60 });
    }
  });
  return jobs;
}

export async function renderSampleDay(): Promise<string> {
  const fleet = loadFleetConfig(join(ROOT, 'fleet.config.yaml')).fleets[0];
  const result = simulateFleet({
    fleet: envelopeFleetOf(fleet),
    settings: scalingSettingsOf(fleet),
    startMinuteOfWeek: TUESDAY,
    durationSeconds: 24 * 3600,
    stepSeconds: 30,
    bootSeconds: 120,
    jobs: sampleJobs(),
    sampleEverySeconds: 300,
  });
  const values = result.samples.flatMap((s) => {
    const hour = s.second / 3600;
    return [
      { hour, series: `capacity (slots: instances x ${fleet.concurrency})`, value: s.capacity * fleet.concurrency },
      { hour, series: 'busy slots', value: s.busySlots },
      { hour, series: 'queued jobs', value: s.queuedJobs },
      { hour, series: 'schedule max (slots)', value: s.envelopeMax * fleet.concurrency },
    ];
  });
  const spec: vegaLite.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Sample Tuesday: fleet ${fleet.name} (schedule mon-fri 08:00-18:00, demand scaling, scale from zero)`,
    width: 760,
    height: 260,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'hour', type: 'quantitative', title: 'local time (h)', scale: { domain: [0, 24] }, axis: { tickCount: 12 } },
      y: { field: 'value', type: 'quantitative', title: 'slots / jobs' },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top' } },
      strokeDash: { condition: { test: "datum.series === 'schedule max (slots)'", value: [4, 4] }, value: [1, 0] },
    },
    config: { font: 'sans-serif' },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const svg = await renderSampleDay();
  writeFileSync(join(ROOT, 'docs', 'scaling-sample-day.svg'), `${svg}\n`);
  console.log(`wrote docs/scaling-sample-day.svg (${svg.length} bytes)`);
}
