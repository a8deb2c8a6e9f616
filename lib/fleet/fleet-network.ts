/**
 * Where fleets run: a default VPC for fleets without `network` config, or an existing VPC and
 * subnets referenced by id (no lookups, so synth needs no credentials).
 */
import { Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
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
   * How long VPC flow logs are kept in CloudWatch Logs; at least 90 days, so an incident can be
   * traced back over a quarter. The log group is retained when the stack is deleted.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** The shortest flow-log retention RunnerVpc accepts, in days. */
export const MIN_FLOW_LOG_RETENTION_DAYS = 90;

/**
 * A VPC with public subnets only and no NAT gateway, so a fresh account works and costs
 * nothing while idle: instances get public IPv4 addresses (charged per hour while running)
 * and reach GitLab directly; their security group has no inbound rules. Accounts that require
 * private subnets behind NAT should give fleets a `network` instead. All traffic is recorded
 * by VPC flow logs in CloudWatch Logs, kept 90 days or more and retained when the stack is
 * deleted. The VPC's default security group has its rules removed (nothing uses it), so a
 * resource put into it by mistake gets no traffic.
 */
export class RunnerVpc extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;
  /** The role VPC Flow Logs assumes to write to the log group; only for flow logs of this account. */
  public readonly flowLogRole: iam.Role;

  constructor(scope: Construct, id: string, props: RunnerVpcProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 1) throw new Error(`maxAzs (${maxAzs}) must be a whole number >= 1`);
    const retention = props.flowLogRetention ?? logs.RetentionDays.THREE_MONTHS;
    if (!Token.isUnresolved(retention) && retention < MIN_FLOW_LOG_RETENTION_DAYS) {
      throw new Error(`flowLogRetention (${retention} days) must be at least ${MIN_FLOW_LOG_RETENTION_DAYS} days`);
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      restrictDefaultSecurityGroup: true,
    });
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention,
      // Evidence outlives the stack: deleting the fleets must not delete the record of their traffic.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stack = Stack.of(this);
    // Confused-deputy guard: the service may use this role only for flow logs of this account.
    this.flowLogRole = new iam.Role(this, 'FlowLogRole', {
      description: 'VPC flow logs of the GitLab runner fleets VPC, delivered to CloudWatch Logs',
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }) },
        },
      }),
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, this.flowLogRole),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledgeRestrictDefaultSecurityGroupProvider(stack);
  }
}

/**
 * cdk-nag findings on the provider the CDK adds for `restrictDefaultSecurityGroup` (one per
 * stack, outside this construct): a role with the AWS managed basic-execution policy and a
 * runtime chosen by the CDK. Acknowledged on the provider only, with the reason.
 */
function acknowledgeRestrictDefaultSecurityGroupProvider(stack: Stack): void {
  const provider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  if (!provider) return;
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The CDK-provided function that removes the default security group rules only writes its own logs with this policy; ' +
      'its other permissions are limited to that one security group.',
  });
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
