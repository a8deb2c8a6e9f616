/**
 * The decision core of the scheduled token rotation's Lambda, one step of a Step Functions
 * workflow per invocation: `start` begins a rotation, `check` advances it by one poll. What it
 * returns is the workflow state: runner ids, the refresh id and the deadline, never a token.
 * Pure: no AWS SDK, no HTTP.
 */
import type { RotationProgress, RotationState, RotationTarget } from '../../rotation/token-rotation';
import { unfinishedRotation } from '../../rotation/token-rotation';

/** A rotation in flight, as the workflow carries it from step to step. */
export interface ScheduledRotationState extends RotationState {
  /** ISO time the rotation began. */
  readonly startedAt: string;
  /** ISO time after which an unfinished rotation counts as failed (old runners are kept). */
  readonly deadline: string;
}

export type RotationEvent = { readonly action: 'start' } | { readonly action: 'check'; readonly rotation: ScheduledRotationState };

/** What a step answers; the workflow's Choice state reads `phase`, its Fail state `message`. */
export interface RotationStepResult {
  readonly phase: RotationProgress['phase'];
  readonly rotation: ScheduledRotationState;
  /** One line for people (and the failure cause): where the rotation stands. */
  readonly message: string;
}

/** Reads the workflow's input; throws naming the field at fault. */
export function parseRotationEvent(raw: unknown): RotationEvent {
  const event = (raw ?? {}) as Record<string, unknown>;
  if (event.action === 'start') return { action: 'start' };
  if (event.action !== 'check') throw new Error(`action must be start or check, got ${JSON.stringify(event.action)}`);
  const rotation = (event.rotation ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['refreshId', 'startedAt', 'deadline'] as const) {
    if (typeof rotation[key] !== 'string' || rotation[key] === '') problems.push(`rotation.${key} must be a non-empty string`);
  }
  if (typeof rotation.deadline === 'string' && Number.isNaN(Date.parse(rotation.deadline)))
    problems.push('rotation.deadline must be an ISO time');
  const runners = rotation.runners;
  if (!Array.isArray(runners) || runners.length === 0) problems.push('rotation.runners must be a non-empty list');
  else
    runners.forEach((runner: Record<string, unknown> | null, i) => {
      if (runner?.computeType !== 'spot' && runner?.computeType !== 'on-demand')
        problems.push(`rotation.runners[${i}].computeType must be spot or on-demand`);
      for (const key of ['oldId', 'newId'] as const)
        if (!Number.isInteger(runner?.[key])) problems.push(`rotation.runners[${i}].${key} must be a whole number`);
      if (typeof runner?.oldDeleted !== 'boolean') problems.push(`rotation.runners[${i}].oldDeleted must be true or false`);
    });
  if (problems.length > 0) throw new Error(`invalid check input: ${problems.join('; ')}`);
  return { action: 'check', rotation: rotation as unknown as ScheduledRotationState };
}

/** The state of a rotation begun at `now` that may take `timeoutMinutes`. */
export function scheduledState(state: RotationState, now: Date, timeoutMinutes: number): ScheduledRotationState {
  return { ...state, startedAt: now.toISOString(), deadline: new Date(now.getTime() + timeoutMinutes * 60_000).toISOString() };
}

/**
 * The answer of a step: the progress as is, except that a rotation still refreshing or
 * draining after its deadline has failed (its old runners are kept, both tokens work).
 */
export function stepResult(
  target: RotationTarget,
  rotation: ScheduledRotationState,
  progress: RotationProgress,
  now: Date,
): RotationStepResult {
  const unfinished = unfinishedRotation(target, rotation, progress).join('; ');
  if (progress.phase === 'done') {
    const ids = rotation.runners.map((r) => `${r.oldId} -> ${r.newId}`).join(', ');
    return { phase: 'done', rotation, message: `${target.fleetName}: rotated (runners ${ids}); every instance uses the new token` };
  }
  if (progress.phase === 'failed') return { phase: 'failed', rotation, message: unfinished };
  if (now.getTime() > Date.parse(rotation.deadline)) {
    return {
      phase: 'failed',
      rotation,
      message: `${target.fleetName}: not finished by ${rotation.deadline}: ${unfinished}. Check \`runner-fleet status\`, then delete the old runner by hand or run \`runner-fleet rotate-token ${target.fleetName}\``,
    };
  }
  return { phase: progress.phase, rotation, message: unfinished };
}
