/**
 * What each scheduled change sets on a fleet's group: the one table that both the scheduled
 * actions (lib/fleet/scheduled-scaling.ts) and the deploy-time catch-up (the
 * `schedule-catch-up` custom resource) are written from, so a group caught up in the middle of a
 * window looks exactly as if the window's scheduled action had fired. Pure: no CDK, no AWS SDK.
 */
import { fleetGroupCapacity, type FleetSpec } from '../config/fleet-config';
import { changeMinutes, type ScheduledChange } from '../config/schedule';
import { demandEnvelope } from './envelope';
import { envelopeFleetOf } from './fleet';

/** One scheduled change with the group sizes it sets. */
export interface ScheduledGroupSize {
  readonly change: ScheduledChange;
  /** The group's MinSize from this change on. */
  readonly minSize: number;
  /** The group's DesiredCapacity at this change. */
  readonly desiredCapacity: number;
}

/**
 * The sizes each scheduled change of the fleet sets. Without demand scaling, min and desired are
 * the schedule's capacity, so nothing scales the group below it. With demand scaling the change
 * still brings the window's capacity up (desired), but the floor is the demand envelope's min at
 * that time (`min(window capacity, warmInstances)` in a window, `capacity.min` outside), so the
 * scaler may remove idle instances down to the envelope, as docs/scaling.md describes; a MinSize
 * at the window's capacity would make Auto Scaling refuse that scale-in.
 */
export function scheduledGroupSizes(fleet: FleetSpec): ScheduledGroupSize[] {
  const changes = fleetGroupCapacity(fleet).changes;
  if (!fleet.demandScaling) return changes.map((change) => ({ change, minSize: change.desired, desiredCapacity: change.desired }));
  const envelopeFleet = envelopeFleetOf(fleet);
  return changes.map((change) => ({
    change,
    // The change's first firing minute lies in the segment it starts, so the envelope there is the period's.
    minSize: demandEnvelope(envelopeFleet, changeMinutes(change)[0]).min,
    desiredCapacity: change.desired,
  }));
}

/**
 * True when the fleet's group needs its schedule applied at deploy time: it has scheduled changes,
 * so the template leaves desired capacity to them and a group created (or rescheduled) between two
 * changes would otherwise wait at the week's floor for the next one. A constant week puts its
 * capacity in the template itself.
 */
export function needsScheduleCatchUp(fleet: FleetSpec): boolean {
  return fleet.schedule !== undefined && fleetGroupCapacity(fleet).changes.length > 0;
}
