/**
 * A short table of the fleets an app deploys, printed by bin/app.ts at synth.
 */
import { fleetGroupCapacity, WEEKDAYS, type FleetConfig, type FleetSpec, type Weekday } from '../config';
import { fleetStackName } from './fleet-app';

// The runner tags are what a person must give the runner when creating it in GitLab.
const COLUMNS = ['fleet', 'compute', 'arch', 'instance types', 'capacity', 'schedule', 'stack', 'GitLab runner tags'] as const;

/** `mon,tue,wed,sat` -> `mon-wed,sat`. */
function dayText(days: readonly Weekday[]): string {
  const indexes = days.map((d) => WEEKDAYS.indexOf(d)).sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const i of indexes) {
    const run = runs[runs.length - 1];
    if (run && i === run[run.length - 1] + 1) run.push(i);
    else runs.push([i]);
  }
  return runs.map((r) => (r.length > 2 ? `${WEEKDAYS[r[0]]}-${WEEKDAYS[r[r.length - 1]]}` : r.map((i) => WEEKDAYS[i]).join(','))).join(',');
}

function scheduleText(fleet: FleetSpec): string {
  if (!fleet.schedule) return `always on (${fleet.capacity.desired})`;
  const windows = fleet.schedule.windows.map((w) => `${dayText(w.days)} ${w.start}-${w.end}=${w.desired}`).join('; ');
  return `${windows} ${fleet.schedule.timeZone}`;
}

/** One row per fleet, in config order. */
export function fleetSummaryRows(config: FleetConfig): string[][] {
  return config.fleets.map((fleet) => [
    fleet.name,
    fleet.computeType + (fleet.computeType === 'spot' && fleet.onDemandBase > 0 ? ` (+${fleet.onDemandBase} on-demand)` : ''),
    fleet.architecture,
    fleet.instanceTypes.join(','),
    // The group's own MinSize..MaxSize, as deployed (a whole-week schedule raises the floor).
    `${fleetGroupCapacity(fleet).minSize}..${fleet.capacity.max}`,
    scheduleText(fleet),
    fleetStackName(fleet.name, fleet.deployment),
    fleet.runnerTags.join(','),
  ]);
}

/** The rows as an aligned plain-text table with a header. */
export function formatFleetSummary(config: FleetConfig): string {
  const rows = [[...COLUMNS], ...fleetSummaryRows(config)];
  const widths = COLUMNS.map((_c, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}
