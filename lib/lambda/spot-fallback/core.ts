/**
 * The spot fallback's decisions, pure: given a launch failure or a timer tick, what the fleet's
 * group looks like now and the fallback state kept on the group's own tag, decide whether
 * on-demand takes over part of the capacity, or whether the group returns to spot.
 *
 * Idempotent by construction: the on-demand base it asks for is derived from the group's
 * current facts (desired capacity minus the spot instances that exist), not from counting
 * events, so a duplicated or late event asks for the same base again. The configured base
 * always comes from the deployed configuration, never from the tag (seed 001): the tag only
 * says since when the fleet has been short or in fallback.
 */
import type { FleetTarget } from '../shared/handler-config';

export const FALLBACK_DETAIL_TYPES = {
  launchUnsuccessful: 'EC2 Instance Launch Unsuccessful',
  scheduled: 'Scheduled Event',
} as const;

/** What the fallback knows per fleet (written into the handler config by the construct). */
export type SpotFallbackTarget = NonNullable<FleetTarget['spotFallback']>;

export type FallbackEvent =
  | {
      readonly kind: 'launch-failure';
      readonly groupName: string;
      readonly at: number;
      readonly capacityError: boolean;
      readonly message: string;
    }
  | { readonly kind: 'tick'; readonly at: number };

export type ParsedFallbackEvent = FallbackEvent | { readonly kind: 'unsupported'; readonly reason: string };

/** What Auto Scaling and EC2 say about the group when the event is handled. */
export interface GroupFacts {
  readonly groupName: string;
  readonly desired: number;
  readonly max: number;
  /** The group's current OnDemandBaseCapacity. */
  readonly onDemandBase: number;
  /** Spot instances of the group that are launching or in service. */
  readonly spotInstances: number;
  /** Value of the fallback state tag, when the group carries one. */
  readonly stateTag?: string;
}

/** The fallback's memory, on the group's tag; epoch milliseconds. */
export interface FallbackState {
  /** Since when the group has been short of spot capacity, while not in fallback. */
  readonly shortSince?: number;
  /** The latest capacity error seen. */
  readonly lastFailureAt?: number;
  /** When on-demand took over; set while in fallback. */
  readonly fallbackSince?: number;
  /** When the group last returned to spot; capacity errors from before it are stale. */
  readonly returnedAt?: number;
}

export type FallbackAction = 'none' | 'track' | 'raise' | 'return';

export interface FallbackPlan {
  readonly action: FallbackAction;
  readonly reason: string;
  readonly groupName: string;
  /** The OnDemandBaseCapacity to set, when it changes. */
  readonly onDemandBase?: number;
  /** The state tag to write; undefined leaves the tag as it is. */
  readonly state?: FallbackState;
  /** On a return: how long on-demand covered for spot. */
  readonly fallbackMinutes?: number;
  /** Desired capacity not covered by spot instances when deciding. */
  readonly shortfall: number;
}

/** The tag holding the fallback state on a fleet group (never propagated to instances). */
export const FALLBACK_STATE_TAG = 'gitlab-runner-fleet:spot-fallback';

/**
 * Launch failures that more capacity elsewhere, not a fix in the template, would solve. Auto Scaling
 * puts the EC2 error code in StatusMessage, e.g. "Could not launch Spot Instances.
 * InsufficientInstanceCapacity - There is no Spot capacity available that matches your request."
 */
const CAPACITY_ERROR =
  /InsufficientInstanceCapacity|InsufficientCapacity|UnfulfillableCapacity|MaxSpotInstanceCountExceeded|SpotMaxPriceTooLow|no Spot capacity|not have sufficient .*capacity/i;

/** Reads an EventBridge event as delivered in an SQS message body. */
export function parseFallbackEvent(raw: unknown): ParsedFallbackEvent {
  if (!isRecord(raw)) return { kind: 'unsupported', reason: 'event is not a JSON object' };
  const detailType = raw['detail-type'];
  const at = typeof raw.time === 'string' ? Date.parse(raw.time) : Number.NaN;
  if (Number.isNaN(at)) return { kind: 'unsupported', reason: `${String(detailType)} without a valid time` };
  if (detailType === FALLBACK_DETAIL_TYPES.scheduled) return { kind: 'tick', at };
  if (detailType !== FALLBACK_DETAIL_TYPES.launchUnsuccessful) {
    return { kind: 'unsupported', reason: `detail-type ${JSON.stringify(detailType)} is not handled` };
  }
  const detail = isRecord(raw.detail) ? raw.detail : {};
  const groupName = typeof detail.AutoScalingGroupName === 'string' ? detail.AutoScalingGroupName : '';
  if (!groupName) return { kind: 'unsupported', reason: `${detailType} without AutoScalingGroupName` };
  const message = [detail.StatusMessage, detail.Cause].filter((v): v is string => typeof v === 'string').join(' ');
  return { kind: 'launch-failure', groupName, at, capacityError: CAPACITY_ERROR.test(message), message };
}

/** Decides what to do for one group. `now` is the handler's clock; events carry their own time. */
export function decideFallback(
  event: FallbackEvent,
  settings: SpotFallbackTarget | undefined,
  facts: GroupFacts,
  now: number,
): FallbackPlan {
  const state = parseFallbackState(facts.stateTag);
  const groupName = facts.groupName;
  const configuredBase = settings?.onDemandBase ?? 0;
  // Desired capacity that neither spot instances nor the configured on-demand base provide.
  const shortfall = Math.max(0, facts.desired - facts.spotInstances - configuredBase);
  const plan = (action: FallbackAction, reason: string, extra: Partial<FallbackPlan> = {}): FallbackPlan => ({
    groupName,
    action,
    reason,
    shortfall,
    ...extra,
  });
  const inFallback = state.fallbackSince !== undefined;

  if (!settings?.enabled) {
    if (!inFallback) return plan('none', 'spot fallback is off for this fleet');
    // Turned off while in fallback: back to the configured base (a deploy that does not change it would not).
    return plan('return', 'spot fallback was turned off in the configuration', {
      onDemandBase: settings && facts.onDemandBase !== configuredBase ? configuredBase : undefined,
      state: { returnedAt: now },
      fallbackMinutes: minutesBetween(state.fallbackSince!, now),
    });
  }

  let next: FallbackState = state;
  if (event.kind === 'launch-failure') {
    if (!event.capacityError)
      return plan('none', `launch failed for a reason more capacity would not fix: ${event.message || '(no message)'}`);
    if (state.returnedAt !== undefined && event.at <= state.returnedAt)
      return plan('none', 'capacity error from before the last return to spot');
    next = { ...next, lastFailureAt: Math.max(state.lastFailureAt ?? event.at, event.at) };
    if (!inFallback) next = { ...next, shortSince: Math.min(state.shortSince ?? event.at, event.at) };
  }
  // On-demand covers what spot does not, on top of the configured base; never above the group's max.
  const wanted = Math.min(facts.max, configuredBase + shortfall);

  if (inFallback) {
    if (wanted > facts.onDemandBase) {
      return plan('raise', `still short of spot capacity: on-demand base ${facts.onDemandBase} -> ${wanted} (max ${facts.max})`, {
        onDemandBase: wanted,
        state: next,
      });
    }
    const quietSince = Math.max(next.lastFailureAt ?? 0, next.fallbackSince!);
    if (event.kind === 'tick' && now - quietSince >= settings.returnAfterMinutes * 60_000) {
      return plan(
        'return',
        `no capacity error for ${settings.returnAfterMinutes} min: on-demand base ${facts.onDemandBase} -> ${configuredBase}`,
        {
          onDemandBase: facts.onDemandBase === configuredBase ? undefined : configuredBase,
          state: { returnedAt: now },
          fallbackMinutes: minutesBetween(next.fallbackSince!, now),
        },
      );
    }
    return changed(state, next) ? plan('track', 'capacity error while in fallback', { state: next }) : plan('none', 'in fallback');
  }

  if (shortfall === 0) {
    if (state.shortSince === undefined) return plan('none', 'spot covers the desired capacity');
    return plan('track', 'spot covers the desired capacity again', { state: { ...next, shortSince: undefined } });
  }
  const shortSince = next.shortSince ?? event.at;
  next = { ...next, shortSince };
  if (now - shortSince >= settings.afterMinutes * 60_000 && wanted > facts.onDemandBase) {
    return plan(
      'raise',
      `short of spot capacity for ${settings.afterMinutes} min or more: on-demand base ${facts.onDemandBase} -> ${wanted} (max ${facts.max})`,
      {
        onDemandBase: wanted,
        state: { lastFailureAt: next.lastFailureAt, returnedAt: next.returnedAt, fallbackSince: now },
      },
    );
  }
  return changed(state, next)
    ? plan('track', `short of ${shortfall} instance(s); on-demand takes over after ${settings.afterMinutes} min`, { state: next })
    : plan('none', `short of ${shortfall} instance(s); waiting`);
}

function minutesBetween(from: number, to: number): number {
  return Math.max(0, Math.round((to - from) / 60_000));
}

function changed(a: FallbackState, b: FallbackState): boolean {
  return formatFallbackState(a) !== formatFallbackState(b);
}

const STATE_FIELDS = [
  ['shortSince', 'short'],
  ['lastFailureAt', 'failed'],
  ['fallbackSince', 'since'],
  ['returnedAt', 'returned'],
] as const;

/** The tag value: `since=<epoch s> failed=<epoch s> ...`, fields in a fixed order. */
export function formatFallbackState(state: FallbackState): string {
  return STATE_FIELDS.filter(([field]) => state[field] !== undefined)
    .map(([field, key]) => `${key}=${Math.floor(state[field]! / 1000)}`)
    .join(' ');
}

/** Reads a tag value; unknown or malformed fields are ignored (the tag is advisory, never configuration). */
export function parseFallbackState(tag: string | undefined): FallbackState {
  const state: Record<string, number> = {};
  for (const part of (tag ?? '').split(/\s+/)) {
    const [key, value] = part.split('=');
    const field = STATE_FIELDS.find(([, k]) => k === key)?.[0];
    if (field && /^\d{1,12}$/.test(value ?? '')) state[field] = Number(value) * 1000;
  }
  return state;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
