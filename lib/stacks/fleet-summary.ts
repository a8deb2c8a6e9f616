/**
 * A short table of the fleets an app deploys, printed by bin/app.ts at synth.
 */
import type { FleetConfig, FleetSpec } from '../config';
import { fleetStackName } from './fleet-app';

const COLUMNS = ['fleet', 'compute', 'arch', 'instance types', 'capacity', 'schedule', 'stack'] as const;

function scheduleText(fleet: FleetSpec): string {
  if (!fleet.schedule) return `always on (${fleet.capacity.desired})`;
  const windows = fleet.schedule.windows.map((w) => `${w.days.join(',')} ${w.start}-${w.end}=${w.desired}`).join('; ');
  return `${windows} ${fleet.schedule.timeZone}`;
}

/** One row per fleet, in config order. */
export function fleetSummaryRows(config: FleetConfig): string[][] {
  return config.fleets.map((fleet) => [
    fleet.name,
    fleet.computeType + (fleet.computeType === 'spot' && fleet.onDemandBase > 0 ? ` (+${fleet.onDemandBase} on-demand)` : ''),
    fleet.architecture,
    fleet.instanceTypes.join(','),
    `${fleet.capacity.min}..${fleet.capacity.max}`,
    scheduleText(fleet),
    fleetStackName(fleet.name),
  ]);
}

/** The rows as an aligned plain-text table with a header. */
export function formatFleetSummary(config: FleetConfig): string {
  const rows = [[...COLUMNS], ...fleetSummaryRows(config)];
  const widths = COLUMNS.map((_c, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}
