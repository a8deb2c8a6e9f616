/**
 * The launch template of a fleet's instances: AL2023 from the SSM public parameter, IMDSv2
 * only, encrypted gp3 root volume, no key pair, no inbound rules.
 */
import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { Architecture } from '../config/instance-types';

/** Root device of the Amazon Linux 2023 AMIs. */
export const AL2023_ROOT_DEVICE = '/dev/xvda';

/** SSM public parameter holding the latest AL2023 AMI id for an architecture (resolved by CloudFormation at deploy time). */
export function al2023AmiParameterName(architecture: Architecture): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`;
}

export interface RunnerLaunchTemplateProps {
  readonly vpc: ec2.IVpc;
  /** CPU architecture of the AMI. */
  readonly architecture: Architecture;
  /** Root volume size in GiB. */
  readonly volumeSizeGiB: number;
  /** Instance role (an instance profile is created for it). */
  readonly role: iam.IRole;
  /** Complete user data script (bash). Must not contain secrets: it is readable from the instance and the API. */
  readonly userData: string;
  /**
   * Machine image.
   * @default - latest Amazon Linux 2023 for the architecture, from the SSM public parameter at deploy time
   */
  readonly machineImage?: ec2.IMachineImage;
}

/**
 * Launch template plus its security group. The security group has no inbound rules (access is
 * through SSM Session Manager) and allows outbound HTTPS only: GitLab, the runner binary
 * download (S3), AL2023 package repositories (S3 over HTTPS), the AWS APIs the instance calls
 * (Secrets Manager, Auto Scaling, EC2, SSM) and container registries all use 443. DNS to the
 * VPC resolver, NTP to 169.254.169.123 and IMDS are link-local or resolver traffic that
 * security groups do not filter. Jobs that need other ports (git over SSH, plain HTTP) need an
 * extra egress rule on {@link RunnerLaunchTemplate.securityGroup}.
 */
export class RunnerLaunchTemplate extends Construct {
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: RunnerLaunchTemplateProps) {
    super(scope, id);
    if (
      !Token.isUnresolved(props.volumeSizeGiB) &&
      (!Number.isInteger(props.volumeSizeGiB) || props.volumeSizeGiB < 8 || props.volumeSizeGiB > 16384)
    ) {
      throw new Error(`volumeSizeGiB (${props.volumeSizeGiB}) must be a whole number from 8 to 16384`);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      allowAllOutbound: false,
      description: 'GitLab runners: no inbound, outbound HTTPS only',
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: GitLab, AWS APIs, package and image registries');

    const machineImage =
      props.machineImage ??
      // A CloudFormation parameter of type AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>: resolved at deploy time, so
      // synth needs no credentials and every deploy picks up the current AMI (a new one rolls the fleet).
      ec2.MachineImage.fromSsmParameter(al2023AmiParameterName(props.architecture), { os: ec2.OperatingSystemType.LINUX });

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage,
      userData: ec2.UserData.custom(props.userData),
      role: props.role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      // 1 hop: processes on the instance reach IMDS, containers behind the docker bridge do not.
      httpPutResponseHopLimit: 1,
      httpEndpoint: true,
      blockDevices: [
        {
          deviceName: AL2023_ROOT_DEVICE,
          volume: ec2.BlockDeviceVolume.ebs(props.volumeSizeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
  }
}
