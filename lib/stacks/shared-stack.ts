/**
 * Resources every fleet of an app shares: the default VPC (only when some fleet has no
 * `network`), and the fleet-wide safety net and orphan reaper.
 */
import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config';
import { RunnerVpc } from '../fleet/fleet-network';

export interface SharedStackProps extends StackProps {
  readonly config: FleetConfig;
}

export class SharedStack extends Stack {
  /** The default VPC, present when at least one fleet has no `network` config. */
  public readonly runnerVpc?: RunnerVpc;

  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id, {
      description: 'GitLab runner fleets: shared network, safety net and orphan reaper',
      ...props,
    });
    if (props.config.fleets.some((fleet) => fleet.network === undefined)) {
      this.runnerVpc = new RunnerVpc(this, 'Network');
    }
    for (const [key, value] of Object.entries(props.config.awsTags)) Tags.of(this).add(key, value);
  }

  /** The default VPC; throws when every fleet brings its own network. */
  public get vpc(): ec2.IVpc {
    if (!this.runnerVpc) throw new Error('the shared stack has no VPC: every fleet has a network config');
    return this.runnerVpc.vpc;
  }
}
