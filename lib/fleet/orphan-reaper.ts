/**
 * The orphan reaper: a scheduled Lambda that removes the GitLab runner managers of instances
 * that no longer exist in their fleet (missed by the drain agent and the safety net, e.g. after
 * an outage, a forced group deletion or a detached instance), and reports what it removed.
 *
 * It runs at a minute derived from the fleet names, never on the hour, so many deployments
 * do not call GitLab at the same instant.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FleetSpec, GitLabSettings, OrphanReaperSettings } from '../config/fleet-config';
import { jitterMinutes } from '../config/schedule';
import { handlerConfig } from '../lambda/shared/handler-config';
import { gitlabUrlProblem } from '../identity/gitlab-url';
import { deploymentOfFleets, FleetLambdaFunction } from './fleet-lambda';
import { REGISTERED_TOKEN_SECRET_PREFIX } from '../identity/fleet-registry';

export interface OrphanReaperProps {
  /** The fleets whose runners are checked. */
  readonly fleets: readonly FleetSpec[];
  /**
   * SSM path of a fleet registry (lib/identity/fleet-registry.ts): fleets registered there for
   * `gitlab.url` are checked too, read at every run.
   * @default - no registry: only `fleets`, which must then hold at least one fleet
   */
  readonly registryPath?: string;
  /** The GitLab the fleets' runners are registered with. */
  readonly gitlab: GitLabSettings;
  /** Interval, grace period and API token secret. With `enabled: false` the schedule is created disabled. */
  readonly settings: OrphanReaperSettings;
  /**
   * Retention of the function's logs (they hold the report of what was removed).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrent executions reserved (and capped) for the function. Not reserved by default:
   * accounts at the minimum concurrency quota (10, common for new accounts) cannot reserve any,
   * and runs are at least 15 minutes apart with a 5-minute timeout, so they do not overlap.
   * @default - none reserved
   */
  readonly reservedConcurrentExecutions?: number;
}

/** When the reaper runs, as derived from its interval and a seed. */
export interface OrphanReaperSchedule {
  /** EventBridge schedule expression. */
  readonly expression: string;
  /** First minute past the hour it runs at; undefined for a rate (its phase is set by the deployment time). */
  readonly minute?: number;
}

/**
 * A schedule every `intervalMinutes`, at a minute derived from `seed` that is never :00.
 * Intervals that divide an hour, or whole hours that divide a day, become cron expressions
 * with that offset; others (e.g. 45 or 90 minutes) cannot be phased in cron and use a rate.
 */
export function orphanReaperSchedule(intervalMinutes: number, seed: string): OrphanReaperSchedule {
  if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1)
    throw new Error(`settings.intervalMinutes (${intervalMinutes}) must be a whole number >= 1`);
  if (intervalMinutes < 60 && 60 % intervalMinutes === 0) {
    if (intervalMinutes === 1) return { expression: 'rate(1 minute)' };
    const minute = jitterMinutes(seed, intervalMinutes - 1);
    return { expression: `cron(${minute}/${intervalMinutes} * * * ? *)`, minute };
  }
  const hours = intervalMinutes / 60;
  if (Number.isInteger(hours) && 24 % hours === 0) {
    const minute = jitterMinutes(seed, 59);
    const hour = hours === 1 ? '*' : `${jitterMinutes(`${seed}:hour`, hours) - 1}/${hours}`;
    return { expression: `cron(${minute} ${hour} * * ? *)`, minute };
  }
  return { expression: `rate(${intervalMinutes} minutes)` };
}

/** The longest the reaper may run; it surveys four fleets at a time. */
const FUNCTION_TIMEOUT = Duration.minutes(5);

export class OrphanReaper extends Construct {
  public readonly function: lambda.Function;
  public readonly rule: events.Rule;
  public readonly schedule: OrphanReaperSchedule;
  /** In alarm when a run failed to survey a fleet or to remove an orphan. Add actions to notify someone. */
  public readonly errorAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OrphanReaperProps) {
    super(scope, id);
    const { settings } = props;
    const problems: string[] = [];
    if (props.fleets.length === 0 && !props.registryPath) problems.push('fleets must hold at least one fleet (or give a registryPath)');
    const urlProblem = Token.isUnresolved(props.gitlab.url) ? undefined : gitlabUrlProblem(props.gitlab.url);
    if (urlProblem) problems.push(`gitlab.url ${urlProblem}`);
    if (!Token.isUnresolved(settings.graceMinutes) && !(settings.graceMinutes >= 5))
      problems.push(`settings.graceMinutes (${settings.graceMinutes}) must be >= 5`);
    if (!settings.apiTokenSecretName)
      problems.push('settings.apiTokenSecretName must name the secret holding a token that can read the fleet runners');
    if (!Token.isUnresolved(settings.intervalMinutes) && !(Number.isInteger(settings.intervalMinutes) && settings.intervalMinutes >= 5)) {
      problems.push(`settings.intervalMinutes (${settings.intervalMinutes}) must be a whole number >= 5`);
    }
    if (problems.length > 0) throw new Error(`OrphanReaper: ${problems.join('; ')}`);

    const lambdaFunction = new FleetLambdaFunction(this, 'Handler', {
      handler: 'orphan-reaper',
      description: 'GitLab runner fleets: removes runner managers whose instances no longer exist',
      config: handlerConfig(props.fleets, props.gitlab, {
        apiTokenSecretName: settings.apiTokenSecretName,
        graceMinutes: settings.graceMinutes,
        ...(props.registryPath ? { registryPath: props.registryPath } : {}),
      }),
      caCertificate: props.gitlab.caCertificate,
      timeout: FUNCTION_TIMEOUT,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.function = lambdaFunction.function;
    this.function.configureAsyncInvoke({ retryAttempts: 0 });
    lambdaFunction.grantReadSecrets(
      'ReadFleetTokens',
      [
        // A mixed fleet's on-demand managers belong to its second runner, listed and removed with that token.
        ...props.fleets.flatMap((f) => [
          f.runnerTokenSecretName,
          ...(f.onDemandRunnerTokenSecretName ? [f.onDemandRunnerTokenSecretName] : []),
        ]),
        settings.apiTokenSecretName,
        ...(props.registryPath ? [`${REGISTERED_TOKEN_SECRET_PREFIX}*`] : []),
      ],
      props.registryPath
        ? 'Registered fleets keep their token secrets under the gitlab-runner-fleet/ prefix (a fleet product allows no other name), and are only known at run time; the other names are name-based ARNs whose wildcard matches the six random characters Secrets Manager appends.'
        : 'Name-based secret ARN: Secrets Manager appends "-" and six random characters to the name; the wildcard matches only those six.',
      deploymentOfFleets(props.fleets),
    );
    if (props.registryPath) lambdaFunction.grantReadRegistry('ReadFleetRegistry', props.registryPath);
    lambdaFunction.grantDescribe(
      'ListFleetInstances',
      ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
      'DescribeAutoScalingGroups and DescribeInstances support no resource-level permissions; AWS requires "*". Both are read-only.',
    );

    const seed = props.registryPath ? `registry:${props.registryPath}` : props.fleets.map((f) => f.name).join(',');
    this.schedule = orphanReaperSchedule(settings.intervalMinutes, `orphan-reaper:${seed}`);
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Orphan reaper for the GitLab runner fleets, ${this.schedule.expression}`,
      schedule: events.Schedule.expression(this.schedule.expression),
      enabled: settings.enabled,
      // A failed run is not retried: the next scheduled run does the same work.
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });

    this.errorAlarm = new cloudwatch.Alarm(this, 'ErrorAlarm', {
      alarmDescription: 'GitLab runner fleet orphan reaper: a run could not survey a fleet or remove an orphan; see its logs.',
      metric: this.function.metricErrors({
        period: Duration.minutes(Math.max(5, Math.min(settings.intervalMinutes, 1440))),
        statistic: 'Sum',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
