/**
 * Names of the demand-scaling metrics, shared by the Lambdas that publish them and the
 * constructs that chart and alarm on them. All live in FLEET_METRIC_NAMESPACE with the fleet
 * as the only dimension (see fleet-metrics.ts). Pure.
 */
export const DEMAND_METRICS = {
  /** Jobs pending in GitLab that the fleet can take, as the scaler last saw them. */
  queuedJobs: 'QueuedJobs',
  /** Jobs running on the fleet's instances (runner `gitlab_runner_jobs`, summed). */
  busySlots: 'BusySlots',
  /** Slots of the fleet's instances in service (instances x concurrent). */
  totalSlots: 'TotalSlots',
  /** Desired capacity the scaler set. */
  desiredCapacity: 'DesiredCapacity',
  /** Seconds a job waited between pending and running (GitLab's queued duration), one datapoint per job. */
  timeToStart: 'TimeToStartSeconds',
  /** Instances the scaler removed because they were idle. */
  idleInstancesRemoved: 'IdleInstancesRemoved',
  /** Scaling calls that failed. */
  scalingErrors: 'ScalingErrors',
} as const;

export type DemandMetricName = (typeof DEMAND_METRICS)[keyof typeof DEMAND_METRICS];

/**
 * Tags an instance keeps on itself so the scaler can tell idle instances from busy ones
 * without a metric per instance (tags cost nothing; per-instance metrics grow the bill).
 */
export const BUSY_TAGS = {
  /** Jobs running now, as the runner's Prometheus `gitlab_runner_jobs` says. */
  busySlots: 'gitlab-runner-fleet:busy-slots',
  /** Epoch seconds since which the instance has run no job; absent while busy. */
  idleSince: 'gitlab-runner-fleet:idle-since',
} as const;
