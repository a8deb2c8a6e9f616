/**
 * The decision core of the schedule catch-up ("apply the schedule now"): from the custom
 * resource's properties (the fleet's scheduled changes with the sizes each sets, its time zone)
 * and the current instant, the sizes the group must have now, which are the sizes of the last
 * scheduled change that fired. The same changes are deployed as the group's scheduled actions
 * (lib/scaling/scheduled-sizes.ts), so a group caught up in the middle of a window looks exactly
 * as if the window's action had fired. Pure: no CDK, no AWS SDK; the clock is a parameter.
 *
 * Never throws: properties it cannot read (a missing time zone, no changes) give a `skip`
 * with the reason, so an odd schedule never fails a deployment.
 */
import { changeInForce, localMinuteOfWeek, MINUTES_PER_DAY, WEEKDAYS, type Weekday } from '../../config/schedule';

/** The custom resource type, as CloudFormation shows it. */
export const SCHEDULE_CATCH_UP_RESOURCE_TYPE = 'Custom::FleetScheduleCatchUp';

/** One scheduled change as the resource carries it (CloudFormation turns every value into a string). */
export interface CatchUpChangeProperties {
  /** Comma-separated day names, e.g. `mon,tue,wed,thu,fri`. */
  readonly Days: string;
  /** Local time the change fires at, `HH:MM` (jitter included). */
  readonly At: string;
  readonly MinSize: string;
  readonly DesiredCapacity: string;
}

/** The resource properties the construct writes (lib/fleet/schedule-catch-up.ts). */
export interface CatchUpProperties {
  readonly AutoScalingGroupName: string;
  /** IANA time zone of the schedule. */
  readonly TimeZone: string;
  /** The group's MaxSize: nothing is ever set above it. */
  readonly MaxSize: string;
  /** `true`: a demand scaler owns desired capacity; only the floor is applied. */
  readonly DemandScaled: string;
  readonly Changes: readonly CatchUpChangeProperties[];
}

interface CatchUpChange {
  readonly days: readonly Weekday[];
  readonly hour: number;
  readonly minute: number;
  readonly at: string;
  readonly minSize: number;
  readonly desiredCapacity: number;
}

export type CatchUpPlan =
  | {
      readonly kind: 'apply';
      readonly groupName: string;
      readonly minSize: number;
      /** Undefined for a demand-scaled fleet: the scaler owns desired capacity. */
      readonly desiredCapacity?: number;
      /** The change in force, e.g. `mon,tue,wed,thu,fri 07:57`, for the log and the response. */
      readonly changeInForce: string;
      /** Local time now, `mon 09:30`. */
      readonly localTime: string;
    }
  | { readonly kind: 'skip'; readonly reason: string };

/**
 * What to do for a request at `nowMs`. Delete does nothing: the group goes with its own stack,
 * and the schedule's actions with it.
 */
export function planCatchUp(requestType: string, properties: unknown, nowMs: number): CatchUpPlan {
  if (requestType === 'Delete') return { kind: 'skip', reason: 'nothing to undo on delete' };
  const props = (properties ?? {}) as Partial<CatchUpProperties>;
  const groupName = typeof props.AutoScalingGroupName === 'string' ? props.AutoScalingGroupName : '';
  if (groupName === '') return { kind: 'skip', reason: 'AutoScalingGroupName is missing' };
  const timeZone = typeof props.TimeZone === 'string' ? props.TimeZone : '';
  let minute: number;
  try {
    minute = localMinuteOfWeek(timeZone, nowMs);
  } catch {
    return { kind: 'skip', reason: `TimeZone ${JSON.stringify(timeZone)} is not an IANA time zone this runtime knows` };
  }
  const changes = parseChanges(props.Changes);
  const change = changeInForce(changes, minute);
  if (!change) return { kind: 'skip', reason: 'the schedule has no scheduled change, so the template holds the capacity itself' };
  const max = wholeNumber(props.MaxSize);
  const cap = (n: number) => (max === undefined ? n : Math.min(n, max));
  const minSize = cap(change.minSize);
  return {
    kind: 'apply',
    groupName,
    minSize,
    // A demand-scaled group gets only its floor: UpdateAutoScalingGroup raises desired capacity to
    // a MinSize above it and never lowers it, so busy instances the scaler started keep running.
    ...(props.DemandScaled === 'true' ? {} : { desiredCapacity: Math.max(minSize, cap(change.desiredCapacity)) }),
    changeInForce: `${change.days.join(',')} ${change.at}`,
    localTime: `${WEEKDAYS[Math.floor(minute / MINUTES_PER_DAY)]} ${hhmm(minute % MINUTES_PER_DAY)}`,
  };
}

/** The readable changes; malformed entries are left out (the rest still apply). */
function parseChanges(raw: unknown): CatchUpChange[] {
  if (!Array.isArray(raw)) return [];
  const changes: CatchUpChange[] = [];
  for (const entry of raw as Array<Partial<CatchUpChangeProperties> | null>) {
    const days = typeof entry?.Days === 'string' ? entry.Days.split(',').map((d) => d.trim()) : [];
    const time = /^(\d{2}):(\d{2})$/.exec(typeof entry?.At === 'string' ? entry.At : '');
    const minSize = wholeNumber(entry?.MinSize);
    const desiredCapacity = wholeNumber(entry?.DesiredCapacity);
    if (days.length === 0 || !days.every((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d))) continue;
    if (!time || Number(time[1]) > 23 || Number(time[2]) > 59 || minSize === undefined || desiredCapacity === undefined) continue;
    changes.push({ days, hour: Number(time[1]), minute: Number(time[2]), at: time[0], minSize, desiredCapacity });
  }
  return changes;
}

function wholeNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

function hhmm(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

/** The properties for a fleet's changes, as the construct writes them (and the tests build them). */
export function catchUpChangeProperties(
  sizes: ReadonlyArray<{
    readonly change: { readonly days: readonly Weekday[]; readonly hour: number; readonly minute: number };
    readonly minSize: number;
    readonly desiredCapacity: number;
  }>,
): CatchUpChangeProperties[] {
  return sizes.map(({ change, minSize, desiredCapacity }) => ({
    Days: change.days.join(','),
    At: hhmm(change.hour * 60 + change.minute),
    MinSize: String(minSize),
    DesiredCapacity: String(desiredCapacity),
  }));
}
