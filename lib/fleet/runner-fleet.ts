/**
 * One GitLab runner fleet: launch template, Auto Scaling group with a mixed instances policy,
 * lifecycle hooks created with the group, scheduled capacity, rolling updates, scoped IAM.
 * Usable from any CDK app; the YAML config is only one way to build its props.
 */
import { Annotations, Duration, Tags, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { fleetGroupCapacity, neverRunsWarning, type FleetSpec, type GitLabSettings } from '../config';
import { RunnerInstanceRole } from './fleet-role';
import { RunnerLaunchTemplate } from './fleet-launch-template';
import { fleetRollingUpdate } from './fleet-update-policy';
import { DEFAULT_RUNNER_DOWNLOAD_URL, type InstanceScriptParams } from './instance/params';
import { renderUserData } from './instance/user-data';
import { LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS, terminateHookTiming, type TerminateHookTiming } from './lifecycle-timing';
import { autoScalingGroupName, FLEET_TAGS, LIFECYCLE_HOOKS } from '../identity/runner-identity';
import { FleetScheduledScaling } from './scheduled-scaling';
import { FleetScheduleCatchUp } from './schedule-catch-up';
import { needsScheduleCatchUp } from '../scaling/scheduled-sizes';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEMAND_METRICS } from '../identity/demand-metrics';
import { HEALTH_METRICS } from '../identity/health-metrics';
import { fleetDemandMetric, fleetGroupMetric, fleetHealthMetric } from './fleet-metrics';
import { ManagedGitLabRunners } from './managed-runner';

export interface RunnerFleetProps {
  /** The fleet: instance types, capacity, schedule, runner settings (see FleetSpec in lib/config). */
  readonly fleet: FleetSpec;
  /** The GitLab instance the runners register with. */
  readonly gitlab: GitLabSettings;
  /** VPC the instances run in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the group; instances are spread across their availability zones. The subnets
   * need a route to the internet (public subnets with public IPs, or a NAT gateway).
   * @default - the VPC's default selection: private subnets with egress if it has any, otherwise public subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Secret holding the fleet's `glrt-` runner authentication token. Only its name reaches the
   * template; instances read the value at boot.
   * @default - with `fleet.managedRunner`, a secret the fleet creates and fills; else the existing secret named `fleet.runnerTokenSecretName`, imported by name
   */
  readonly runnerTokenSecret?: secretsmanager.ISecret;
  /**
   * Something other than `fleet.schedule` owns the group's desired capacity, e.g. scheduled
   * actions built from CloudFormation parameters (the Service Catalog products), so the group
   * is created without a desired capacity, as for a scheduled fleet.
   * @default false - the group follows `fleet.schedule`, or runs `capacity.desired` without one
   */
  readonly externallyScheduled?: boolean;
  /**
   * With `fleet.managedRunner`: roles besides the instance role that must read the runner tokens
   * (the safety net and orphan reaper deregister managers with them). Everyone else is denied.
   * @default - none: only the instance role and the runner handler
   */
  readonly tokenReaders?: readonly iam.IRole[];
  /**
   * ARN of the deployment's schedule catch-up function (see schedule-catch-up.ts). With it, a fleet
   * whose schedule changes capacity gets a custom resource that, at deploy time, sets the group to
   * what the schedule gives for that moment.
   * @default - none: a group created (or rescheduled) in the middle of a window starts at the week's lowest capacity and follows the schedule from its next change
   */
  readonly scheduleCatchUpServiceToken?: string;
}

/**
 * A fleet of GitLab runners on an EC2 Auto Scaling group.
 *
 * The group's sizes come from the same capacity profile as the cost estimate
 * ({@link fleetGroupCapacity}). A schedule whose week is constant (e.g. `daily 00:00-24:00`) puts
 * that capacity in the template. A schedule that changes capacity leaves the desired capacity out:
 * scheduled actions own it, and a deploy does not reset it; the group is created at the week's
 * lowest capacity, and with `scheduleCatchUpServiceToken` a custom resource then sets it, at
 * deploy time, to what the schedule gives for that moment (and again whenever the schedule changes).
 */
export class RunnerFleet extends Construct {
  public readonly fleet: FleetSpec;
  /** The group's name: `gitlab-runner-fleet-<fleet name>`, or `gitlab-runner-fleet.<deployment>.<fleet name>` in a named deployment. */
  public readonly autoScalingGroupName: string;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** Security group of the instances: no inbound rules, outbound HTTPS. */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly role: iam.IRole;
  public readonly runnerTokenSecret: secretsmanager.ISecret;
  /** Mixed fleets with a second runner: the token secret of the on-demand instances. */
  public readonly onDemandRunnerTokenSecret?: secretsmanager.ISecret;
  /** Present with `fleet.managedRunner`: the GitLab runner objects the fleet owns. */
  public readonly managedRunners?: ManagedGitLabRunners;
  /** Terminate hook timing: heartbeat timeout and the heartbeat interval the drain agent uses. */
  public readonly terminateHook: TerminateHookTiming;
  /** How often the drain agent records a lifecycle heartbeat while jobs run. */
  public readonly heartbeatInterval: Duration;
  public readonly scheduledScaling: FleetScheduledScaling;
  /** Present for a fleet with scheduled changes when `scheduleCatchUpServiceToken` is given. */
  public readonly scheduleCatchUp?: FleetScheduleCatchUp;

  constructor(scope: Construct, id: string, props: RunnerFleetProps) {
    super(scope, id);
    validateProps(props);
    const { fleet, gitlab } = props;
    this.fleet = fleet;
    this.autoScalingGroupName = autoScalingGroupName(fleet.name, fleet.deployment);
    this.terminateHook = terminateHookTiming(fleet.maxJobTimeoutMinutes);
    this.heartbeatInterval = Duration.seconds(this.terminateHook.heartbeatIntervalSeconds);
    if (fleet.managedRunner && !props.runnerTokenSecret) {
      this.managedRunners = new ManagedGitLabRunners(this, 'GitLabRunners', { fleet, gitlab });
    }
    const managedSecret = this.managedRunners?.tokenSecret(fleet.computeType);
    this.runnerTokenSecret =
      props.runnerTokenSecret ??
      managedSecret ??
      secretsmanager.Secret.fromSecretNameV2(this, 'RunnerTokenSecret', fleet.runnerTokenSecretName);
    // Names, not ARNs, reach the instances: the fleet's names are deterministic either way.
    const tokenSecretName = props.runnerTokenSecret ? props.runnerTokenSecret.secretName : fleet.runnerTokenSecretName;
    if (fleet.onDemandRunnerTokenSecretName && fleet.computeType === 'spot') {
      this.onDemandRunnerTokenSecret =
        this.managedRunners?.tokenSecret('on-demand') ??
        secretsmanager.Secret.fromSecretNameV2(this, 'OnDemandRunnerTokenSecret', fleet.onDemandRunnerTokenSecretName);
    }

    this.role = new RunnerInstanceRole(this, 'InstanceRole', {
      fleetName: fleet.name,
      autoScalingGroupName: this.autoScalingGroupName,
      runnerTokenSecret: this.runnerTokenSecret,
      onDemandRunnerTokenSecret: this.onDemandRunnerTokenSecret,
    }).role;
    this.managedRunners?.restrictReadTo([this.role, ...(props.tokenReaders ?? [])]);

    const scriptParams: InstanceScriptParams = {
      fleetName: fleet.name,
      gitlabUrl: gitlab.url,
      caCertificate: gitlab.caCertificate,
      registryMirror: gitlab.registryMirror,
      runnerVersion: fleet.runnerVersion,
      runnerDownloadUrl: gitlab.runnerDownloadUrl ?? DEFAULT_RUNNER_DOWNLOAD_URL,
      runnerSha256: fleet.runnerSha256,
      architecture: fleet.architecture,
      computeType: fleet.computeType,
      executor: fleet.executor,
      dockerImage: fleet.dockerImage,
      concurrency: fleet.concurrency,
      maxJobTimeoutMinutes: fleet.maxJobTimeoutMinutes,
      runnerTokenSecretId: tokenSecretName,
      onDemandRunnerTokenSecretId: this.onDemandRunnerTokenSecret ? fleet.onDemandRunnerTokenSecretName : undefined,
      autoScalingGroupName: this.autoScalingGroupName,
      launchHookName: LIFECYCLE_HOOKS.launch,
      terminateHookName: LIFECYCLE_HOOKS.terminate,
      heartbeatIntervalSeconds: this.terminateHook.heartbeatIntervalSeconds,
      busyReporter: fleet.demandScaling !== undefined,
    };
    // Throws, naming gitlab.caCertificate where it applies, when EC2's 16 KB limit would be exceeded.
    const userData = renderUserData(scriptParams);

    const template = new RunnerLaunchTemplate(this, 'LaunchTemplate', {
      vpc: props.vpc,
      architecture: fleet.architecture,
      volumeSizeGiB: fleet.volumeSizeGiB,
      role: this.role,
      userData,
    });
    this.launchTemplate = template.launchTemplate;
    this.securityGroup = template.securityGroup;

    const spot = fleet.computeType === 'spot';
    // Something else (e.g. demand scaling) owns desired capacity: keep the floor, leave desired out.
    const sizes = props.externallyScheduled ? { minSize: fleet.capacity.min, desiredCapacity: undefined } : fleetGroupCapacity(fleet);
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      autoScalingGroupName: this.autoScalingGroupName,
      minCapacity: sizes.minSize,
      maxCapacity: fleet.capacity.max,
      // Left out when scheduled actions own desired capacity (see the class doc).
      desiredCapacity: sizes.desiredCapacity,
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        launchTemplateOverrides: fleet.instanceTypes.map((type) => ({ instanceType: new ec2.InstanceType(type) })),
        instancesDistribution: spot
          ? {
              onDemandBaseCapacity: fleet.onDemandBase,
              onDemandPercentageAboveBaseCapacity: 0,
              onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
              spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
            }
          : {
              onDemandBaseCapacity: 0,
              onDemandPercentageAboveBaseCapacity: 100,
              onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
            },
      },
      capacityRebalance: spot,
      groupMetrics: [autoscaling.GroupMetrics.all()],
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate(),
    });

    // No instance boots before its runner exists and the token is in the secret.
    if (this.managedRunners) this.autoScalingGroup.node.addDependency(this.managedRunners);

    if (sizes.desiredCapacity !== undefined) {
      Annotations.of(this.autoScalingGroup).acknowledgeWarning(
        '@aws-cdk/aws-autoscaling:desiredCapacitySet',
        'A fleet without scheduled changes is meant to run this capacity all week; a deploy restoring it is the intended behaviour.',
      );
    }
    const parked = neverRunsWarning(fleet);
    if (parked) Annotations.of(this).addWarningV2('gitlab-runner-fleet:never-runs', parked);

    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    // L2 rolling update options lack MinActiveInstancesPercent; keep the scheduled-action policy the L2 set.
    cfnGroup.cfnOptions.updatePolicy = {
      ...cfnGroup.cfnOptions.updatePolicy,
      autoScalingRollingUpdate: fleetRollingUpdate(fleet.capacity, fleet.minHealthyPercentage),
      autoScalingScheduledAction: { ignoreUnmodifiedGroupSizeProperties: true },
    };
    // Hooks are part of the group, not separate resources, so the very first instances wait too.
    cfnGroup.lifecycleHookSpecificationList = [
      {
        lifecycleHookName: LIFECYCLE_HOOKS.launch,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        // A boot that never registers is replaced instead of counted as capacity.
        defaultResult: 'ABANDON',
        heartbeatTimeout: LAUNCH_HOOK_HEARTBEAT_TIMEOUT_SECONDS,
        notificationMetadata: JSON.stringify({ fleet: fleet.name }),
      },
      {
        lifecycleHookName: LIFECYCLE_HOOKS.terminate,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        // A dead drain agent stops heartbeating; the instance then terminates after one timeout.
        defaultResult: 'CONTINUE',
        heartbeatTimeout: this.terminateHook.heartbeatTimeoutSeconds,
        notificationMetadata: JSON.stringify({ fleet: fleet.name }),
      },
    ];

    this.scheduledScaling = new FleetScheduledScaling(this, 'Schedule', { autoScalingGroup: this.autoScalingGroup, fleet });
    if (props.scheduleCatchUpServiceToken !== undefined && !props.externallyScheduled && needsScheduleCatchUp(fleet)) {
      this.scheduleCatchUp = new FleetScheduleCatchUp(this, 'ScheduleCatchUp', {
        fleet,
        autoScalingGroup: this.autoScalingGroup,
        serviceToken: props.scheduleCatchUpServiceToken,
        after: [this.autoScalingGroup, this.scheduledScaling],
        launchTemplateVersion: this.launchTemplate.latestVersionNumber,
      });
    }

    const tags: Record<string, string> = {
      [FLEET_TAGS.computeType]: fleet.computeType,
      [FLEET_TAGS.fleet]: fleet.name,
      [FLEET_TAGS.gitlabUrl]: gitlab.url,
      [FLEET_TAGS.tokenSecret]: tokenSecretName,
      ...(fleet.deployment === undefined ? {} : { [FLEET_TAGS.deployment]: fleet.deployment }),
    };
    for (const [key, value] of Object.entries(tags)) Tags.of(this).add(key, value);
    // Above the launch template's own Name tag (its construct path), so the console shows the group name.
    Tags.of(this).add('Name', this.autoScalingGroupName, { priority: 200 });

    if (fleet.runnerSha256 === undefined) {
      Annotations.of(this).addWarningV2(
        'gitlab-runner-fleet:runner-checksum-unpinned',
        `no SHA-256 is pinned for GitLab Runner ${fleet.runnerVersion} (${fleet.architecture}): instances check the binary against ` +
          'the release.sha256 served by the same host. Set fleet.runnerSha256 from the signed release.sha256 to pin it.',
      );
    }
    if (this.terminateHook.maxDrainSeconds < fleet.maxJobTimeoutMinutes * 60) {
      Annotations.of(this).addWarningV2(
        'gitlab-runner-fleet:drain-capped',
        `fleet.maxJobTimeoutMinutes (${fleet.maxJobTimeoutMinutes}) exceeds the 48 h a lifecycle action can wait; longer jobs are cut at scale-in`,
      );
    }

    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Launch and terminate are handled by lifecycle hooks and the EventBridge safety net (aws.autoscaling events), and group ' +
        'metrics are collected; SNS scaling notifications would duplicate them with nobody subscribed.',
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-EC26',
      reason:
        'The rule only reads a LaunchTemplate set directly on the group and errors on one inside MixedInstancesPolicy. The root ' +
        'volume is encrypted in the launch template (asserted by test/fleet/runner-fleet-launch-template.test.ts).',
    });
  }

  /** Jobs running on the fleet (sum of the runners' `gitlab_runner_jobs`), published by the demand scaler. */
  public metricBusySlots(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetDemandMetric(this.fleet.name, DEMAND_METRICS.busySlots, props);
  }

  /** Job slots of the instances in service (instances x concurrency), published by the demand scaler. */
  public metricTotalSlots(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetDemandMetric(this.fleet.name, DEMAND_METRICS.totalSlots, props);
  }

  /** Jobs pending in GitLab that this fleet can take, as the demand scaler last saw them. */
  public metricQueuedJobs(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetDemandMetric(this.fleet.name, DEMAND_METRICS.queuedJobs, props);
  }

  /** Seconds from pending to running per job, from job events (default statistic p95). */
  public metricTimeToStart(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetDemandMetric(this.fleet.name, DEMAND_METRICS.timeToStart, props);
  }

  /** Instances in service (AWS/AutoScaling GroupInServiceInstances). */
  public metricInServiceInstances(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetGroupMetric(this.fleet, 'GroupInServiceInstances', props);
  }

  /** Instances leaving, draining their jobs through the terminate hook (GroupTerminatingInstances). */
  public metricDrainingInstances(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetGroupMetric(this.fleet, 'GroupTerminatingInstances', props);
  }

  /** Instances booting, waiting in the launch hook until their runner registers (GroupPendingInstances). */
  public metricBootingInstances(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetGroupMetric(this.fleet, 'GroupPendingInstances', props);
  }

  /** Seconds from boot to the runner registered and the launch hook completed, per boot (default p95 over 5 minutes). */
  public metricBootToRegistered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.bootToRegistered, props);
  }

  /** Boots that gave up and were replaced (launch hook ABANDON), summed over 5 minutes. */
  public metricRegistrationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.registrationFailures, props);
  }

  /**
   * Seconds a drain took, from the Terminated target state to completing the terminate hook (default p95
   * over 5 minutes); with `{ statistic: 'SampleCount' }` the number of drains.
   */
  public metricDrainDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.drainDuration, props);
  }

  /** Runner managers the drain agent or the safety net could not delete in GitLab, summed over 5 minutes. */
  public metricDeregistrationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.deregistrationFailures, props);
  }

  /** Spot interruption notices the instances received, summed over 5 minutes. */
  public metricSpotInterruptions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.spotInterruptionNotices, props);
  }

  /** EC2 rebalance recommendations the instances received, summed over 5 minutes. */
  public metricRebalanceRecommendations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.rebalanceRecommendations, props);
  }

  /** Jobs failed (runner_system_failure) because a spot reclaim came before they finished, summed over 5 minutes. */
  public metricJobsFailedByReclaim(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.jobsFailedByReclaim, props);
  }

  /** Minutes of on-demand capacity the spot fallback ran for lack of spot capacity, summed over 5 minutes. */
  public metricSpotFallbackMinutes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fleetHealthMetric(this.fleet.name, HEALTH_METRICS.spotFallbackMinutes, props);
  }
}

function validateProps(props: RunnerFleetProps): void {
  const problems: string[] = [];
  const { fleet, gitlab } = props;
  const known = (value: unknown): value is number => typeof value === 'number' && !Token.isUnresolved(value);
  const { min, max, desired } = fleet.capacity;
  if (fleet.instanceTypes.length === 0) problems.push('fleet.instanceTypes must list at least one instance type');
  if (known(min) && known(max) && min > max) problems.push(`fleet.capacity.min (${min}) must be <= fleet.capacity.max (${max})`);
  if (known(max) && max < 1) problems.push(`fleet.capacity.max (${max}) must be >= 1`);
  if (known(desired) && known(min) && known(max) && (desired < min || desired > max)) {
    problems.push(`fleet.capacity.desired (${desired}) must be between fleet.capacity.min (${min}) and fleet.capacity.max (${max})`);
  }
  if (known(fleet.onDemandBase)) {
    if (fleet.computeType === 'on-demand' && fleet.onDemandBase > 0) {
      problems.push(`fleet.onDemandBase (${fleet.onDemandBase}) only applies to spot fleets; use 0 for computeType on-demand`);
    } else if (known(max) && fleet.onDemandBase > max) {
      problems.push(`fleet.onDemandBase (${fleet.onDemandBase}) must be <= fleet.capacity.max (${max})`);
    } else if (fleet.onDemandBase < 0) problems.push(`fleet.onDemandBase (${fleet.onDemandBase}) must be >= 0`);
  }
  if (known(fleet.minHealthyPercentage) && (fleet.minHealthyPercentage < 0 || fleet.minHealthyPercentage > 100)) {
    problems.push(`fleet.minHealthyPercentage (${fleet.minHealthyPercentage}) must be from 0 to 100`);
  }
  if (known(fleet.maxJobTimeoutMinutes) && (!Number.isInteger(fleet.maxJobTimeoutMinutes) || fleet.maxJobTimeoutMinutes < 1)) {
    problems.push(`fleet.maxJobTimeoutMinutes (${fleet.maxJobTimeoutMinutes}) must be a whole number >= 1`);
  }
  if (known(fleet.concurrency) && (!Number.isInteger(fleet.concurrency) || fleet.concurrency < 1)) {
    problems.push(`fleet.concurrency (${fleet.concurrency}) must be a whole number >= 1`);
  }
  if (fleet.runnerSha256 !== undefined && !/^[0-9a-f]{64}$/.test(fleet.runnerSha256)) {
    problems.push(`fleet.runnerSha256 (${fleet.runnerSha256}) must be a SHA-256 in lowercase hex (64 characters)`);
  }
  if (!Token.isUnresolved(gitlab.url) && !/^https:\/\/[^/]/.test(gitlab.url))
    problems.push(`gitlab.url (${gitlab.url}) must be an https:// URL`);
  if (problems.length > 0) {
    throw new Error(`RunnerFleet ${JSON.stringify(fleet.name)}: invalid props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
