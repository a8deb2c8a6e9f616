/**
 * The alarms of one fleet, in its own stack. Queued jobs and time to start follow the working
 * week, so they get anomaly detection bands (seed 002: compare with the metric's own seasonal
 * baseline, not a fixed line); scaling errors, registration failures and instances stuck in a lifecycle hook get plain
 * thresholds, because any of them is worth a look.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { FleetSpec } from '../config/fleet-config';
import { DEMAND_METRICS } from '../identity/demand-metrics';
import { HEALTH_METRICS } from '../identity/health-metrics';
import { fleetDemandMetric, fleetGroupMetric, fleetHealthMetric } from './fleet-metrics';
import { LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS, terminateHookTiming } from './lifecycle-timing';

const ALARM_PERIOD = Duration.minutes(5);
/** CloudWatch evaluates at most one day of 5-minute periods. */
const MAX_EVALUATION_PERIODS = 288;

export interface FleetAlarmsProps {
  readonly fleet: FleetSpec;
  /**
   * Where every alarm sends its state changes.
   * @default - no alarm actions
   */
  readonly alarmTopic?: sns.ITopic;
}

export class FleetAlarms extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly anomalyDetectors: cloudwatch.CfnAnomalyDetector[] = [];
  private readonly alarmTopic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: FleetAlarmsProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    const { fleet } = props;
    if (fleet.demandScaling) {
      const anomalies: Array<[string, cloudwatch.Metric, string]> = [
        [
          'QueuedJobsAnomaly',
          fleetDemandMetric(fleet.name, DEMAND_METRICS.queuedJobs, { period: ALARM_PERIOD, statistic: 'Maximum' }),
          'more jobs queued than usual for this time of the week',
        ],
        [
          'TimeToStartAnomaly',
          fleetDemandMetric(fleet.name, DEMAND_METRICS.timeToStart, { period: ALARM_PERIOD, statistic: 'p95' }),
          'jobs wait longer to start than usual for this time of the week',
        ],
      ];
      for (const [name, metric, what] of anomalies) {
        const detector = new cloudwatch.CfnAnomalyDetector(this, `${name}Detector`, {
          singleMetricAnomalyDetector: {
            namespace: metric.namespace,
            metricName: metric.metricName,
            dimensions: Object.entries(metric.dimensions ?? {}).map(([dName, value]) => ({ name: dName, value: String(value) })),
            stat: metric.statistic,
          },
        });
        this.anomalyDetectors.push(detector);
        const alarm = new cloudwatch.AnomalyDetectionAlarm(this, name, {
          alarmDescription: `GitLab runner fleet ${fleet.name}: ${what} (outside the anomaly band of 2 standard deviations).`,
          metric,
          stdDevs: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        alarm.node.addDependency(detector);
        if (this.alarmTopic) alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
        this.alarms.push(alarm);
      }
      this.addAlarm(`ScalingErrors`, {
        alarmDescription: `GitLab runner fleet ${fleet.name}: the demand scaler could not scale the group; see its logs.`,
        metric: fleetDemandMetric(fleet.name, DEMAND_METRICS.scalingErrors, { period: ALARM_PERIOD, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    // A boot that gave up (ABANDON) is replaced, so it never shows as stuck: count it instead.
    this.addAlarm(`RegistrationFailures`, {
      alarmDescription: `GitLab runner fleet ${fleet.name}: instances could not register their runner and were replaced (launch hook ABANDON); see the bootstrap log (cloud-init-output.log) of a new instance.`,
      metric: fleetHealthMetric(fleet.name, HEALTH_METRICS.registrationFailures, { period: ALARM_PERIOD, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    // Pending:Wait longer than the launch hook's timeout means registration is failing or hanging.
    this.addAlarm(`StuckPending`, {
      alarmDescription: `GitLab runner fleet ${fleet.name}: instances stayed in Pending (launch hook) longer than its ${LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS} s timeout; runner registration is failing.`,
      metric: fleetGroupMetric(fleet, 'GroupPendingInstances', { period: ALARM_PERIOD, statistic: 'Minimum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periodsFor(LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS + ALARM_PERIOD.toSeconds()),
    });
    const drainSeconds = terminateHookTiming(fleet.maxJobTimeoutMinutes).maxDrainSeconds;
    this.addAlarm(`StuckTerminating`, {
      alarmDescription: `GitLab runner fleet ${fleet.name}: instances stayed in Terminating (drain hook) longer than the ${drainSeconds} s a drain may take.`,
      metric: fleetGroupMetric(fleet, 'GroupTerminatingInstances', { period: ALARM_PERIOD, statistic: 'Minimum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periodsFor(drainSeconds + ALARM_PERIOD.toSeconds()),
    });
  }

  private addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
    if (this.alarmTopic) alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}

function periodsFor(seconds: number): number {
  return Math.min(MAX_EVALUATION_PERIODS, Math.ceil(seconds / ALARM_PERIOD.toSeconds()));
}
