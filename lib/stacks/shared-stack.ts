/**
 * Resources every fleet of an app shares: the default VPC (only when some fleet has no
 * `network`), the fleet-wide safety net, orphan reaper and spot fallback, and the GitLab OIDC deploy roles.
 */
import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config';
import { GitLabDeployRoles } from '../fleet/deploy-roles';
import { RunnerVpc } from '../fleet/fleet-network';
import { OrphanReaper } from '../fleet/orphan-reaper';
import { RunnerFleetSafetyNet } from '../fleet/safety-net';
import { SpotFallback } from '../fleet/spot-fallback';
import { FleetScheduleCatchUpFunction } from '../fleet/schedule-catch-up';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { DEFAULT_DEMAND_SETTINGS, DEFAULT_MONITORING_SETTINGS } from '../config/fleet-config';
import { instanceHourlyPrice } from '../cost/hourly';
import { snapshotPriceBook } from '../cost/price-book';
import { FleetDemandScaling } from '../fleet/demand-scaling';
import { FleetMonitoring } from '../fleet/fleet-monitoring';

export interface SharedStackProps extends StackProps {
  readonly config: FleetConfig;
}

export class SharedStack extends Stack {
  /** The default VPC, present when at least one fleet has no `network` config. */
  public readonly runnerVpc?: RunnerVpc;
  /** Deregisters runner managers of instances that went away, whatever the reason. */
  public readonly safetyNet: RunnerFleetSafetyNet;
  /** Present when `orphanReaper.enabled` is true in the config. */
  public readonly orphanReaper?: OrphanReaper;
  /** Present when the config has a spot fleet: on-demand covers for spot while spot capacity is gone. */
  public readonly spotFallback?: SpotFallback;
  /** Present when at least one fleet has demand scaling on. */
  public readonly demandScaling?: FleetDemandScaling;
  /** Present unless both the dashboard and the alarms are turned off. */
  public readonly monitoring?: FleetMonitoring;
  /** Sets scheduled fleets to their schedule's capacity at deploy time (one function for every fleet). */
  public readonly scheduleCatchUp: FleetScheduleCatchUpFunction;
  /** Present when the config has `deployRoles`: roles CD jobs assume with GitLab OIDC ID tokens. */
  public readonly deployRoles?: GitLabDeployRoles;

  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id, {
      description: 'GitLab runner fleets: shared network, safety net, orphan reaper, spot fallback and schedule catch-up',
      ...props,
    });
    if (props.config.fleets.some((fleet) => fleet.network === undefined)) {
      this.runnerVpc = new RunnerVpc(this, 'Network');
    }
    const { fleets, gitlab, orphanReaper } = props.config;
    this.safetyNet = new RunnerFleetSafetyNet(this, 'SafetyNet', {
      fleets,
      gitlab,
      // The reaper's token lets the safety net requeue jobs lost in the graceful-stop race.
      apiTokenSecretName: orphanReaper.enabled ? orphanReaper.apiTokenSecretName : undefined,
    });
    this.scheduleCatchUp = new FleetScheduleCatchUpFunction(this, 'ScheduleCatchUp', { fleets, gitlab });
    if (orphanReaper.enabled) {
      this.orphanReaper = new OrphanReaper(this, 'OrphanReaper', { fleets, gitlab, settings: orphanReaper });
    }
    // Also with every fleet's fallback off: a group left in fallback is then returned to its configured base.
    if (fleets.some((fleet) => fleet.computeType === 'spot')) {
      this.spotFallback = new SpotFallback(this, 'SpotFallback', { fleets, gitlab });
    }
    if (fleets.some((fleet) => fleet.demandScaling !== undefined)) {
      this.demandScaling = new FleetDemandScaling(this, 'DemandScaling', {
        fleets,
        gitlab,
        settings: props.config.demand ?? DEFAULT_DEMAND_SETTINGS,
      });
    }
    const monitoring = props.config.monitoring ?? DEFAULT_MONITORING_SETTINGS;
    if (monitoring.dashboard || monitoring.alarms) {
      const region = props.config.cost?.region ?? 'us-east-1';
      const prices = snapshotPriceBook(region, props.config.cost?.prices ?? {});
      this.monitoring = new FleetMonitoring(this, 'Monitoring', {
        fleets,
        settings: monitoring,
        hourlyPrices: Object.fromEntries(fleets.map((fleet) => [fleet.name, hourlyPriceOrZero(fleet, prices)])),
        priceSource: `the ${prices.source.kind} ${region} price of ${prices.source.date}`,
      });
      const topic = this.monitoring.alarmTopic;
      if (topic) {
        for (const alarm of [this.safetyNet.deadLetterAlarm, this.demandScaling?.deadLetterAlarm, this.spotFallback?.deadLetterAlarm]) {
          alarm?.addAlarmAction(new cloudwatchActions.SnsAction(topic));
        }
      }
    }
    if (props.config.deployRoles?.length) {
      this.deployRoles = new GitLabDeployRoles(this, 'DeployRoles', {
        gitlabUrl: gitlab.url,
        oidcProviderArn: gitlab.oidcProviderArn,
        roles: props.config.deployRoles,
      });
    }
    for (const [key, value] of Object.entries(props.config.awsTags)) Tags.of(this).add(key, value);
  }

  /** The default VPC; throws when every fleet brings its own network. */
  public get vpc(): ec2.IVpc {
    if (!this.runnerVpc) throw new Error('the shared stack has no VPC: every fleet has a network config');
    return this.runnerVpc.vpc;
  }
}

/** A region the price snapshot does not cover charts no cost rather than failing the synth. */
function hourlyPriceOrZero(fleet: Parameters<typeof instanceHourlyPrice>[0], prices: Parameters<typeof instanceHourlyPrice>[1]): number {
  try {
    return instanceHourlyPrice(fleet, prices);
  } catch {
    return 0;
  }
}
