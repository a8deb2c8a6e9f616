/**
 * One stack per fleet, so a fleet's resources never count against another's CloudFormation
 * limit (500 resources per stack) and a fleet deploys, updates and rolls back on its own.
 */
import { CrossStackReferences, ReferenceStrength, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { FleetSpec, GitLabSettings } from '../config';
import { FleetAlarms } from '../fleet/fleet-alarms';
import { importFleetNetwork } from '../fleet/fleet-network';
import { RunnerFleet } from '../fleet/runner-fleet';
import { scheduleCatchUpServiceToken } from '../fleet/schedule-catch-up';

export interface FleetStackProps extends StackProps {
  readonly fleet: FleetSpec;
  readonly gitlab: GitLabSettings;
  /**
   * VPC for a fleet without `network` config (its public subnets are used).
   * @default - none; required when `fleet.network` is not set
   */
  readonly defaultVpc?: ec2.IVpc;
  /**
   * Tags on every resource of the stack.
   * @default - none
   */
  readonly awsTags?: Readonly<Record<string, string>>;
  /**
   * Add the fleet's alarms (anomaly bands, scaling errors, instances stuck in a lifecycle hook)
   * to this stack, so the shared stack does not grow with the number of fleets.
   * @default false
   */
  readonly alarms?: boolean;
  /**
   * Where the fleet's alarms send their state changes.
   * @default - no alarm actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Fleets that own their GitLab runner: the roles of the shared Lambdas that read runner tokens.
   * @default - none
   */
  readonly tokenReaders?: readonly iam.IRole[];
  /**
   * The shared stack holds the deployment's schedule catch-up function: a fleet whose schedule
   * changes capacity is set to the schedule's capacity for the moment it is deployed.
   * @default false
   */
  readonly scheduleCatchUp?: boolean;
}

export class FleetStack extends Stack {
  public readonly runnerFleet: RunnerFleet;
  /** Present when `alarms` is true. */
  public readonly alarms?: FleetAlarms;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, {
      description: `GitLab runner fleet ${props.fleet.name} (${props.fleet.computeType}, ${props.fleet.architecture})`,
      ...props,
    });
    // Exports and Fn::ImportValue: the shared VPC cannot be deleted while a fleet still runs in it.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const { fleet } = props;
    let vpc: ec2.IVpc;
    let vpcSubnets: ec2.SubnetSelection;
    if (fleet.network) {
      ({ vpc, vpcSubnets } = importFleetNetwork(this, 'Network', fleet.network));
    } else {
      if (!props.defaultVpc) throw new Error(`fleet ${fleet.name} has no network config, so defaultVpc is required`);
      vpc = props.defaultVpc;
      vpcSubnets = { subnetType: ec2.SubnetType.PUBLIC };
    }
    this.runnerFleet = new RunnerFleet(this, 'Fleet', {
      fleet,
      gitlab: props.gitlab,
      vpc,
      vpcSubnets,
      tokenReaders: props.tokenReaders,
      scheduleCatchUpServiceToken: props.scheduleCatchUp ? scheduleCatchUpServiceToken(this, fleet.deployment) : undefined,
    });
    if (props.alarms) this.alarms = new FleetAlarms(this, 'Alarms', { fleet, alarmTopic: props.alarmTopic });
    for (const [key, value] of Object.entries(props.awsTags ?? {})) Tags.of(this).add(key, value);
  }
}
