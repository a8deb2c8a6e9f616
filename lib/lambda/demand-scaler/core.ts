/**
 * The decision core of the demand scaler: queued jobs from a batch of job signals (duplicates
 * and out-of-order deliveries folded), instance phases from Auto Scaling lifecycle states, and
 * the scaling decision per fleet. Pure: no CDK, no AWS SDK.
 */
import { decideScaling, type FleetInstance, type InstancePhase, type ScalingDecision } from '../../scaling/decide';
import { demandEnvelope } from '../../scaling/envelope';
import { localMinuteOfWeek } from '../../scaling/fleet';
import type { DemandFleetTarget } from '../shared/demand-config';
import type { JobSignal } from '../demand-webhook/core';

/**
 * Jobs still pending per fleet after folding a batch: per job only its furthest status counts,
 * so a duplicate `pending` is counted once and a `pending` delivered after `running` not at all.
 */
export function queuedJobsByFleet(signals: readonly JobSignal[]): Map<string, number> {
  const furthest = new Map<string, JobSignal>();
  for (const signal of signals) {
    const key = `${signal.fleet}\0${signal.jobId}`;
    const seen = furthest.get(key);
    if (!seen || signal.rank > seen.rank) furthest.set(key, signal);
  }
  const queued = new Map<string, number>();
  for (const signal of furthest.values()) {
    queued.set(signal.fleet, (queued.get(signal.fleet) ?? 0) + (signal.rank === 1 ? 1 : 0));
  }
  return queued;
}

/** A queued message body as a signal, or undefined when it is not one. */
export function parseSignal(body: string): JobSignal | undefined {
  try {
    const value = JSON.parse(body) as Partial<JobSignal>;
    if (
      typeof value.fleet === 'string' &&
      typeof value.jobId === 'number' &&
      typeof value.rank === 'number' &&
      typeof value.status === 'string'
    ) {
      const projectId =
        typeof value.projectId === 'number' && Number.isInteger(value.projectId) && value.projectId > 0 ? value.projectId : undefined;
      return { fleet: value.fleet, jobId: value.jobId, status: value.status, rank: value.rank, ...(projectId ? { projectId } : {}) };
    }
  } catch {
    /* not JSON */
  }
  return undefined;
}

/** Auto Scaling lifecycle state to the phase the decision knows; undefined for states it ignores (Standby, Detached). */
export function phaseOf(lifecycleState: string | undefined): InstancePhase | undefined {
  if (!lifecycleState) return undefined;
  if (lifecycleState.startsWith('Pending')) return 'booting';
  if (lifecycleState === 'InService') return 'in-service';
  if (lifecycleState.startsWith('Terminating') || lifecycleState === 'Terminated') return 'draining';
  return undefined;
}

/** The instance as the decision sees it, from its lifecycle state and the busy tags it keeps. */
export function fleetInstance(
  id: string,
  lifecycleState: string | undefined,
  tags: { readonly busySlots?: string; readonly idleSince?: string },
): FleetInstance | undefined {
  const phase = phaseOf(lifecycleState);
  if (!phase) return undefined;
  const busy = tags.busySlots === undefined || tags.busySlots === '' ? undefined : Number(tags.busySlots);
  const idleSince = tags.idleSince === undefined || tags.idleSince === '' ? undefined : Number(tags.idleSince);
  return {
    id,
    phase,
    busySlots: phase === 'in-service' && Number.isInteger(busy) && busy! >= 0 ? busy : undefined,
    idleSince: busy === 0 && Number.isFinite(idleSince) ? idleSince : undefined,
  };
}

export interface FleetState {
  readonly fleet: DemandFleetTarget;
  readonly queuedJobs: number;
  readonly instances: readonly FleetInstance[];
  readonly currentDesired: number;
}

/** The decision for one fleet at `nowMs`, with the schedule evaluated in the fleet's time zone. */
export function decideForFleet(state: FleetState, nowMs: number): ScalingDecision {
  const minute = localMinuteOfWeek(state.fleet.timeZone, nowMs);
  return decideScaling({
    envelope: demandEnvelope(state.fleet.envelope, minute),
    queuedJobs: state.queuedJobs,
    instances: state.instances,
    currentDesired: state.currentDesired,
    settings: state.fleet.settings,
    now: Math.floor(nowMs / 1000),
  });
}
