/**
 * The scaling decision: from the envelope, the queued jobs, the instances and their busy slots,
 * a desired capacity and the idle instances to remove. One pure function shared by the scaler
 * Lambda, the tests, the cost CLI, the sample-day chart and the benchmark. No CDK, no AWS SDK.
 *
 * Scale-in is idle-first by construction: an instance is only ever named for removal when it
 * runs no job, and desired capacity is never lowered below the instances that are busy, so the
 * Auto Scaling group is never left to pick a victim itself while an idle instance exists. The
 * one exception is the schedule's own max (end of a window): then every idle instance goes
 * first and the rest leave through the terminate hook, which lets their jobs finish.
 */
import type { ScalingEnvelope } from './envelope';

export type InstancePhase =
  /** Launched, not yet registered (Pending, Pending:Wait): it will take jobs soon. */
  | 'booting'
  /** Registered and taking jobs. */
  | 'in-service'
  /** Leaving (Terminating, Terminating:Wait): takes no new jobs, finishes running ones. */
  | 'draining';

export interface FleetInstance {
  readonly id: string;
  readonly phase: InstancePhase;
  /**
   * Jobs running on it. Undefined when the instance has not reported: it is then never taken
   * for an idle one (not removed), but adds no demand either, so missing metrics cannot push
   * a fleet to its max.
   */
  readonly busySlots?: number;
  /** Epoch seconds since which it has run no job; undefined while busy or unknown. */
  readonly idleSince?: number;
}

export interface ScalingSettings {
  /** Job slots per instance (config.toml `concurrent`). */
  readonly concurrency: number;
  /** Share of slots the fleet aims to keep busy in working hours, (0, 1]. */
  readonly targetBusyRatio: number;
  /** An idle instance leaves only after this long without a job (inside the envelope). */
  readonly scaleInIdleSeconds: number;
}

export interface ScalingInput {
  readonly envelope: ScalingEnvelope;
  /** Jobs pending in GitLab that this fleet's runners can take. */
  readonly queuedJobs: number;
  readonly instances: readonly FleetInstance[];
  /** The group's desired capacity now (it may run ahead of the instances while they launch). */
  readonly currentDesired: number;
  readonly settings: ScalingSettings;
  /** Epoch seconds. */
  readonly now: number;
}

export interface ScalingDecision {
  /** Desired capacity to set once `remove` is done (removal decrements it by itself). */
  readonly desiredCapacity: number;
  /** Idle instances to terminate (and decrement desired capacity for), longest idle first. */
  readonly remove: readonly string[];
  /** Slots the fleet wants for its busy and queued jobs, before the envelope. */
  readonly wantedInstances: number;
  readonly reason: 'scale-out' | 'scale-in' | 'hold' | 'capped-by-schedule';
}

/** Busy slots an instance counts for in the demand (0 when it has not reported). */
export function busySlotsOf(instance: FleetInstance, concurrency: number): number {
  return Math.min(concurrency, Math.max(0, instance.busySlots ?? 0));
}

export function isIdle(instance: FleetInstance): boolean {
  return instance.phase === 'in-service' && instance.busySlots === 0;
}

/** The decision for one fleet at one moment. */
export function decideScaling(input: ScalingInput): ScalingDecision {
  const { envelope, settings } = input;
  const concurrency = Math.max(1, settings.concurrency);
  const active = input.instances.filter((i) => i.phase !== 'draining');
  const busy = active.filter((i) => i.phase === 'in-service').reduce((sum, i) => sum + busySlotsOf(i, concurrency), 0);
  const neededSlots = busy + Math.max(0, input.queuedJobs);
  // Headroom only in working hours; outside them a pending job gets exactly the slots it needs.
  const ratio = envelope.working ? Math.min(1, Math.max(0.01, settings.targetBusyRatio)) : 1;
  const wantedInstances = neededSlots === 0 ? 0 : Math.ceil(neededSlots / (concurrency * ratio) - 1e-9);
  const target = Math.min(envelope.max, Math.max(envelope.min, wantedInstances));
  const current = Math.max(active.length, input.currentDesired);

  if (target > current) {
    const capped = wantedInstances > envelope.max;
    return { desiredCapacity: target, remove: [], wantedInstances, reason: capped ? 'capped-by-schedule' : 'scale-out' };
  }
  if (target === current) return { desiredCapacity: target, remove: [], wantedInstances, reason: 'hold' };

  // Above the schedule's max, idle instances leave at once; otherwise only after their idle time.
  const mustRemove = Math.max(0, current - envelope.max);
  const mayRemove = current - target;
  const idle = active.filter(isIdle).sort((a, b) => (a.idleSince ?? input.now) - (b.idleSince ?? input.now) || cmp(a.id, b.id));
  const remove: string[] = [];
  for (const instance of idle) {
    if (remove.length >= mayRemove) break;
    const idleLongEnough = input.now - (instance.idleSince ?? input.now) >= settings.scaleInIdleSeconds;
    if (remove.length < mustRemove || idleLongEnough) remove.push(instance.id);
  }
  // Instances launching but not yet listed count as capacity to keep, unless the schedule says less.
  const remaining = current - remove.length;
  const desiredCapacity = Math.min(envelope.max, remaining);
  const reason = desiredCapacity < remaining ? 'capped-by-schedule' : remove.length > 0 ? 'scale-in' : 'hold';
  return { desiredCapacity, remove, wantedInstances, reason };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
