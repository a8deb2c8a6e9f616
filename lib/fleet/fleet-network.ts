/**
 * Where fleets run: a default VPC for fleets without `network` config, or an existing VPC and
 * subnets referenced by id (no lookups, so synth needs no credentials).
 */
import { Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FleetNetwork } from '../config';

export interface RunnerVpcProps {
  /**
   * Availability zones to spread subnets over.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * How long VPC flow logs are kept in CloudWatch Logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * A VPC with public subnets only and no NAT gateway, so a fresh account works and costs
 * nothing while idle: instances get public IPv4 addresses (charged per hour while running)
 * and reach GitLab directly; their security group has no inbound rules. Accounts that require
 * private subnets behind NAT should give fleets a `network` instead. All traffic is recorded
 * by VPC flow logs in CloudWatch Logs.
 */
export class RunnerVpc extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RunnerVpcProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 1) throw new Error(`maxAzs (${maxAzs}) must be a whole number >= 1`);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      restrictDefaultSecurityGroup: false,
    });
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}

/** An existing network, as the fleet construct consumes it. */
export interface ImportedFleetNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
}

/** References a fleet's existing VPC and subnets by id, without a lookup. */
export function importFleetNetwork(scope: Construct, id: string, network: FleetNetwork): ImportedFleetNetwork {
  const container = new Construct(scope, id);
  const vpc = ec2.Vpc.fromVpcAttributes(container, 'Vpc', {
    vpcId: network.vpcId,
    // Only the subnets below are used; without configured AZs the region's list (resolved at deploy) stands in.
    availabilityZones: network.availabilityZones ? [...new Set(network.availabilityZones)] : Fn.getAzs(),
  });
  const subnets = network.subnetIds.map((subnetId, i) =>
    network.availabilityZones
      ? ec2.Subnet.fromSubnetAttributes(container, `Subnet${i}`, { subnetId, availabilityZone: network.availabilityZones[i] })
      : ec2.Subnet.fromSubnetId(container, `Subnet${i}`, subnetId),
  );
  return { vpc, vpcSubnets: { subnets } };
}
