/**
 * Names of the fleet health metrics: what the instance scripts (bootstrap.sh, drain-agent.sh)
 * and the Lambdas (safety net, spot fallback) publish about boots, drains and spot capacity, and
 * what the dashboard and RunnerFleet's metric methods read. Same namespace and single Fleet
 * dimension as every fleet metric (fleet-metrics.ts), so the bill does not grow with instances.
 * The shell scripts spell these names literally; a test checks they stay in this list. Pure.
 */
export const HEALTH_METRICS = {
  /** Seconds from instance boot (/proc/uptime) to the runner registered and the launch hook completed; one datapoint per boot. */
  bootToRegistered: 'BootToRegisteredSeconds',
  /** Boots that gave up (the bootstrap completed the launch hook with ABANDON). */
  registrationFailures: 'RegistrationFailures',
  /** Seconds from the drain agent seeing the Terminated target state to completing the terminate hook; one datapoint per drain. */
  drainDuration: 'DrainSeconds',
  /** Runner managers the drain agent or the safety net could not delete in GitLab (the orphan reaper catches them later). */
  deregistrationFailures: 'DeregistrationFailures',
  /** Spot interruption notices seen by the drain agent, one per instance. */
  spotInterruptionNotices: 'SpotInterruptionNotices',
  /** EC2 rebalance recommendations seen by the drain agent, one per instance. */
  rebalanceRecommendations: 'SpotRebalanceRecommendations',
  /** Jobs still running when a spot reclaim forced the runner down (failed as runner_system_failure). */
  jobsFailedByReclaim: 'JobsFailedByReclaim',
  /** Minutes of on-demand capacity the spot fallback ran because spot capacity was short. */
  spotFallbackMinutes: 'SpotFallbackMinutes',
  /** Jobs lost in the graceful-stop race that the safety net canceled and retried. */
  orphanedJobsRequeued: 'OrphanedJobsRequeued',
} as const;

export type HealthMetricName = (typeof HEALTH_METRICS)[keyof typeof HEALTH_METRICS];

/** Health metrics that are durations (unit Seconds, charted as percentiles); the others are counts (summed). */
export const HEALTH_DURATION_METRICS: ReadonlySet<HealthMetricName> = new Set([
  HEALTH_METRICS.bootToRegistered,
  HEALTH_METRICS.drainDuration,
]);
