/**
 * What operators look at across a deployment: one CloudWatch dashboard with a row per fleet
 * (another per 100 fleets), the alarm topic, and the dead-letter queue alarms. Each fleet's own
 * alarms live in its fleet stack ({@link FleetAlarms}), so the shared stack stays the same size
 * however many fleets there are.
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
import { HEALTH_METRICS, type HealthMetricName } from '../identity/health-metrics';
import { fleetDemandMetric, fleetGroupMetric, fleetHealthMetric } from './fleet-metrics';

const ALARM_PERIOD = Duration.minutes(5);
/**
 * Fleets per dashboard. A fleet takes 6 widgets and 22 metrics (math inputs included), and
 * CloudWatch allows 500 widgets and 2,500 metrics per dashboard (CloudWatch service quotas,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html): 50
 * fleets are 301 widgets and 1,100 metrics, with room for more widgets a fleet. The fleet stack
 * that carries a full dashboard stays about 0.26 MB, well inside CloudFormation's 1 MB template.
 * Checked by the quotas gate at 1,000 fleets.
 */
export const FLEETS_PER_DASHBOARD = 50;

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
  /** The deployment's dashboard, when it has at most {@link FLEETS_PER_DASHBOARD} fleets. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Every dashboard built so far, by this construct or {@link addDashboard}. */
  public readonly dashboards: cloudwatch.Dashboard[] = [];
  private readonly hourlyPrices: Readonly<Record<string, number>>;
  private readonly priceSource: string;
  /** Present when alarmEmail or alarmTopicArn is set. */
  public readonly alarmTopic?: sns.ITopic;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly anomalyDetectors: cloudwatch.CfnAnomalyDetector[] = [];

  constructor(scope: Construct, id: string, props: FleetMonitoringProps) {
    super(scope, id);
    const { settings } = props;
    this.hourlyPrices = props.hourlyPrices;
    this.priceSource = props.priceSource;
    if (settings.alarmTopicArn) this.alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', settings.alarmTopicArn);
    else if (settings.alarmEmail) this.alarmTopic = this.createTopic(settings.alarmEmail);
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
    // Larger deployments get one dashboard per FLEETS_PER_DASHBOARD fleets, each placed by the
    // app in a fleet stack (addDashboard), so the shared stack stays the same size.
    if (settings.dashboard && props.fleets.length <= FLEETS_PER_DASHBOARD) {
      this.dashboard = this.addDashboard(this, 'Dashboard', props.fleets);
    }
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

  /** A dashboard with a row per fleet of `fleets` (at most {@link FLEETS_PER_DASHBOARD}), in `scope`. */
  public addDashboard(scope: Construct, id: string, fleets: readonly FleetSpec[]): cloudwatch.Dashboard {
    if (fleets.length > FLEETS_PER_DASHBOARD) {
      throw new Error(`addDashboard: ${fleets.length} fleets, at most ${FLEETS_PER_DASHBOARD} fit one dashboard`);
    }
    const dashboard = new cloudwatch.Dashboard(scope, id, {
      defaultInterval: Duration.days(1),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# GitLab runner fleets\nOne row per fleet. Cost per hour: instances in service x ${this.priceSource}. See docs/scaling.md.`,
        width: 24,
        height: 2,
      }),
    );
    for (const fleet of fleets) dashboard.addWidgets(...this.fleetRows(fleet));
    this.dashboards.push(dashboard);
    return dashboard;
  }

  /**
   * A fleet's two rows (24 columns each): demand and cost on top; boots, spot interruptions and
   * drains below. 6 widgets and 22 metrics a fleet ({@link FLEETS_PER_DASHBOARD} keeps a dashboard
   * under CloudWatch's per-dashboard quotas).
   */
  private fleetRows(fleet: FleetSpec): cloudwatch.IWidget[] {
    const name = fleet.name;
    const fiveMinutes = { period: Duration.minutes(5) };
    const inService = fleetGroupMetric(fleet, 'GroupInServiceInstances', fiveMinutes);
    const price = this.hourlyPrices[name] ?? 0;
    const health = (metric: HealthMetricName, label: string, statistic?: string) =>
      fleetHealthMetric(name, metric, { label, ...(statistic ? { statistic } : {}) });
    return [
      new cloudwatch.GraphWidget({
        title: `${name}: capacity vs busy slots vs queued jobs`,
        width: 10,
        left: [
          fleetDemandMetric(name, DEMAND_METRICS.totalSlots, { label: `slots (instances x ${fleet.concurrency})` }),
          fleetDemandMetric(name, DEMAND_METRICS.busySlots, { label: 'busy slots' }),
          fleetDemandMetric(name, DEMAND_METRICS.queuedJobs, { label: 'queued jobs' }),
        ],
        right: [inService.with({ label: 'instances in service' })],
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: time to start (s)`,
        width: 7,
        left: [
          fleetDemandMetric(name, DEMAND_METRICS.timeToStart, { statistic: 'p50', label: 'p50', ...fiveMinutes }),
          fleetDemandMetric(name, DEMAND_METRICS.timeToStart, { statistic: 'p95', label: 'p95', ...fiveMinutes }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: estimated cost (USD/h)`,
        width: 7,
        left: [
          new cloudwatch.MathExpression({
            expression: `inService * ${Number(price.toFixed(6))}`,
            usingMetrics: { inService: inService.with({ statistic: 'Average' }) },
            label: `USD/h at ${price.toFixed(4)} per instance-hour`,
            ...fiveMinutes,
          }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: boot to registered (s)`,
        width: 8,
        left: [health(HEALTH_METRICS.bootToRegistered, 'p50', 'p50'), health(HEALTH_METRICS.bootToRegistered, 'p95', 'p95')],
        right: [
          fleetGroupMetric(fleet, 'GroupPendingInstances', { label: 'booting (launch hook)' }),
          health(HEALTH_METRICS.registrationFailures, 'registration failures'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: spot interruptions`,
        width: 8,
        left: [
          health(HEALTH_METRICS.spotInterruptionNotices, 'interruption notices'),
          health(HEALTH_METRICS.rebalanceRecommendations, 'rebalance recommendations'),
          health(HEALTH_METRICS.jobsFailedByReclaim, 'jobs failed by reclaim'),
        ],
        right: [health(HEALTH_METRICS.spotFallbackMinutes, 'on-demand fallback minutes')],
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: drains`,
        width: 8,
        left: [
          health(HEALTH_METRICS.drainDuration, 'drain p50 (s)', 'p50'),
          health(HEALTH_METRICS.drainDuration, 'drain max (s)', 'Maximum'),
        ],
        right: [
          health(HEALTH_METRICS.drainDuration, 'drains', 'SampleCount'),
          health(HEALTH_METRICS.deregistrationFailures, 'deregistration failures'),
          health(HEALTH_METRICS.orphanedJobsRequeued, 'orphaned jobs requeued'),
          fleetGroupMetric(fleet, 'GroupTerminatingInstances', { label: 'draining (terminate hook)' }),
        ],
      }),
    ];
  }
}
