/**
 * What operators look at: one CloudWatch dashboard for the deployment with a row per fleet, and
 * the alarms. Queued jobs and time to start follow the working week, so they get anomaly
 * detection bands (seed 002: compare with the metric's own seasonal baseline, not a fixed line);
 * failures and stuck instances get plain thresholds, because any of them is worth a look.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FleetSpec, MonitoringSettings } from '../config/fleet-config';
import { DEMAND_METRICS } from '../identity/demand-metrics';
import { fleetDemandMetric, fleetGroupMetric } from './fleet-metrics';
import { LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS, terminateHookTiming } from './lifecycle-timing';

const ALARM_PERIOD = Duration.minutes(5);
/** CloudWatch evaluates at most one day of 5-minute periods. */
const MAX_EVALUATION_PERIODS = 288;

export interface FleetMonitoringProps {
  readonly fleets: readonly FleetSpec[];
  readonly settings: MonitoringSettings;
  /** USD per instance-hour by fleet name, for the estimated cost line. */
  readonly hourlyPrices: Readonly<Record<string, number>>;
  /** Where the prices come from, shown on the dashboard. */
  readonly priceSource: string;
  /**
   * Dead-letter queues whose depth is charted and alarmed, by label.
   * @default - none
   */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
}

export class FleetMonitoring extends Construct {
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Present when alarmEmail or alarmTopicArn is set. */
  public readonly alarmTopic?: sns.ITopic;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly anomalyDetectors: cloudwatch.CfnAnomalyDetector[] = [];

  constructor(scope: Construct, id: string, props: FleetMonitoringProps) {
    super(scope, id);
    const { settings } = props;
    if (settings.alarmTopicArn) this.alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', settings.alarmTopicArn);
    else if (settings.alarmEmail) this.alarmTopic = this.createTopic(settings.alarmEmail);
    if (settings.alarms) for (const fleet of props.fleets) this.addFleetAlarms(fleet);
    if (settings.alarms) {
      for (const [label, queue] of Object.entries(props.deadLetterQueues ?? {})) {
        this.addAlarm(`${label}DeadLetters`, {
          alarmDescription: `GitLab runner fleets: messages in the ${label} dead-letter queue; see that function's logs.`,
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
        });
      }
    }
    if (settings.dashboard) this.dashboard = this.createDashboard(props);
  }

  private createTopic(email: string): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'GitLab runner fleet alarms', enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and the messages carry alarm names and states only; set monitoring.alarmTopicArn for a topic with a customer-managed key.',
    });
    (topic.node.defaultChild as sns.CfnTopic).addMetadata('checkov', {
      skip: [{ id: 'CKV_AWS_26', comment: 'See AwsSolutions-SNS2: CloudWatch alarms cannot publish to the AWS-managed SNS key.' }],
    });
    return topic;
  }

  private addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
    if (this.alarmTopic) alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  private addFleetAlarms(fleet: FleetSpec): void {
    const id = pascal(fleet.name);
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
        const detector = new cloudwatch.CfnAnomalyDetector(this, `${id}${name}Detector`, {
          singleMetricAnomalyDetector: {
            namespace: metric.namespace,
            metricName: metric.metricName,
            dimensions: Object.entries(metric.dimensions ?? {}).map(([dName, value]) => ({ name: dName, value: String(value) })),
            stat: metric.statistic,
          },
        });
        this.anomalyDetectors.push(detector);
        const alarm = new cloudwatch.AnomalyDetectionAlarm(this, `${id}${name}`, {
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
      this.addAlarm(`${id}ScalingErrors`, {
        alarmDescription: `GitLab runner fleet ${fleet.name}: the demand scaler could not scale the group; see its logs.`,
        metric: fleetDemandMetric(fleet.name, DEMAND_METRICS.scalingErrors, { period: ALARM_PERIOD, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    // Pending:Wait longer than the launch hook's timeout means registration is failing or hanging.
    this.addAlarm(`${id}StuckPending`, {
      alarmDescription: `GitLab runner fleet ${fleet.name}: instances stayed in Pending (launch hook) longer than its ${LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS} s timeout; runner registration is failing.`,
      metric: fleetGroupMetric(fleet.name, 'GroupPendingInstances', { period: ALARM_PERIOD, statistic: 'Minimum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periodsFor(LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS + ALARM_PERIOD.toSeconds()),
    });
    const drainSeconds = terminateHookTiming(fleet.maxJobTimeoutMinutes).maxDrainSeconds;
    this.addAlarm(`${id}StuckTerminating`, {
      alarmDescription: `GitLab runner fleet ${fleet.name}: instances stayed in Terminating (drain hook) longer than the ${drainSeconds} s a drain may take.`,
      metric: fleetGroupMetric(fleet.name, 'GroupTerminatingInstances', { period: ALARM_PERIOD, statistic: 'Minimum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periodsFor(drainSeconds + ALARM_PERIOD.toSeconds()),
    });
  }

  private createDashboard(props: FleetMonitoringProps): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# GitLab runner fleets\nOne row per fleet. Cost per hour: instances in service x ${props.priceSource}. See docs/scaling.md.`,
        width: 24,
        height: 2,
      }),
    );
    for (const fleet of props.fleets) {
      const slots = fleet.concurrency;
      const inService = fleetGroupMetric(fleet.name, 'GroupInServiceInstances', { period: Duration.minutes(5) });
      const price = props.hourlyPrices[fleet.name] ?? 0;
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${fleet.name}: capacity vs busy slots vs queued jobs`,
          width: 8,
          left: [
            fleetDemandMetric(fleet.name, DEMAND_METRICS.totalSlots, { label: `slots (instances x ${slots})` }),
            fleetDemandMetric(fleet.name, DEMAND_METRICS.busySlots, { label: 'busy slots' }),
            fleetDemandMetric(fleet.name, DEMAND_METRICS.queuedJobs, { label: 'queued jobs' }),
          ],
          right: [inService.with({ label: 'instances in service' })],
        }),
        new cloudwatch.GraphWidget({
          title: `${fleet.name}: time to start (s)`,
          width: 6,
          left: [
            fleetDemandMetric(fleet.name, DEMAND_METRICS.timeToStart, { statistic: 'p50', label: 'p50', period: Duration.minutes(5) }),
            fleetDemandMetric(fleet.name, DEMAND_METRICS.timeToStart, { statistic: 'p95', label: 'p95', period: Duration.minutes(5) }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `${fleet.name}: booting and draining instances`,
          width: 5,
          left: [
            fleetGroupMetric(fleet.name, 'GroupPendingInstances', { label: 'booting (Pending, launch hook)' }),
            fleetGroupMetric(fleet.name, 'GroupTerminatingInstances', { label: 'draining (Terminating, drain hook)' }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `${fleet.name}: estimated cost (USD/h)`,
          width: 5,
          left: [
            new cloudwatch.MathExpression({
              expression: `inService * ${Number(price.toFixed(6))}`,
              usingMetrics: { inService: inService.with({ statistic: 'Average' }) },
              label: `USD/h at ${price.toFixed(4)} per instance-hour`,
              period: Duration.minutes(5),
            }),
          ],
        }),
      );
    }
    return dashboard;
  }
}

function periodsFor(seconds: number): number {
  return Math.min(MAX_EVALUATION_PERIODS, Math.ceil(seconds / ALARM_PERIOD.toSeconds()));
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
