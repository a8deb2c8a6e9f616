/**
 * How long the fleet's lifecycle hooks hold an instance, and how often the drain agent must
 * send heartbeats. Pure (no CDK), so the construct, the instance scripts' parameters and the
 * tests share one calculation.
 *
 * AWS limits (EC2 Auto Scaling lifecycle hooks): one heartbeat timeout is at most 7200 s, and
 * an instance stays in a wait state at most min(48 h, 100 x HeartbeatTimeout) in total, however
 * many heartbeats it records. The terminate hook's timeout is therefore chosen so that
 * 100 x timeout covers the longest job plus a margin, while staying short, because the timeout
 * is also how long a dead drain agent (no heartbeats) delays a scale-in.
 */

/** Seconds a booting instance may take to install and register its runner before it is abandoned. */
export const LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS = 900;

/** Time on top of the longest job for SIGQUIT, deregistration retries and completing the action. */
export const DRAIN_MARGIN_SECONDS = 600;

/** AWS per-heartbeat maximum. */
export const MAX_HEARTBEAT_TIMEOUT_SECONDS = 7200;

/** AWS maximum total wait of one lifecycle action. */
export const MAX_GLOBAL_TIMEOUT_SECONDS = 48 * 3600;

/** AWS: the total wait is capped at this many heartbeat timeouts. */
export const GLOBAL_TIMEOUT_HEARTBEAT_FACTOR = 100;

/** Shortest terminate heartbeat timeout we use: a dead agent blocks scale-in for about this long. */
export const MIN_TERMINATE_HEARTBEAT_TIMEOUT_SECONDS = 300;

/** Heartbeats are sent this many times per timeout, so one lost call does not end the drain. */
export const HEARTBEATS_PER_TIMEOUT = 3;

export interface TerminateHookTiming {
  /** HeartbeatTimeout of the terminate hook, in seconds. */
  readonly heartbeatTimeoutSeconds: number;
  /** How often the drain agent records a heartbeat, in seconds (well below the timeout). */
  readonly heartbeatIntervalSeconds: number;
  /** Longest an instance can be held draining: min(48 h, 100 x heartbeatTimeoutSeconds). */
  readonly maxDrainSeconds: number;
  /** The drain time the fleet needs: max job timeout plus {@link DRAIN_MARGIN_SECONDS}, capped at 48 h. */
  readonly requiredDrainSeconds: number;
}

/** Terminate hook timing for a fleet whose longest job runs `maxJobTimeoutMinutes`. */
export function terminateHookTiming(maxJobTimeoutMinutes: number): TerminateHookTiming {
  if (!Number.isInteger(maxJobTimeoutMinutes) || maxJobTimeoutMinutes < 1) {
    throw new Error(`maxJobTimeoutMinutes (${maxJobTimeoutMinutes}) must be a whole number of minutes >= 1`);
  }
  const requiredDrainSeconds = Math.min(MAX_GLOBAL_TIMEOUT_SECONDS, maxJobTimeoutMinutes * 60 + DRAIN_MARGIN_SECONDS);
  const perHeartbeat = Math.ceil(requiredDrainSeconds / GLOBAL_TIMEOUT_HEARTBEAT_FACTOR / 60) * 60;
  const heartbeatTimeoutSeconds = Math.min(MAX_HEARTBEAT_TIMEOUT_SECONDS, Math.max(MIN_TERMINATE_HEARTBEAT_TIMEOUT_SECONDS, perHeartbeat));
  return {
    heartbeatTimeoutSeconds,
    heartbeatIntervalSeconds: Math.floor(heartbeatTimeoutSeconds / HEARTBEATS_PER_TIMEOUT),
    maxDrainSeconds: Math.min(MAX_GLOBAL_TIMEOUT_SECONDS, GLOBAL_TIMEOUT_HEARTBEAT_FACTOR * heartbeatTimeoutSeconds),
    requiredDrainSeconds,
  };
}
