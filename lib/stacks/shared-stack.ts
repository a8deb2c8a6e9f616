/**
 * Resources every fleet of an app shares: the default VPC (only when some fleet has no
 * `network`), and the fleet-wide safety net, orphan reaper and spot fallback.
 */
import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { FleetConfig } from '../config';
import { RunnerVpc } from '../fleet/fleet-network';
import { OrphanReaper } from '../fleet/orphan-reaper';
import { RunnerFleetSafetyNet } from '../fleet/safety-net';
import { SpotFallback } from '../fleet/spot-fallback';

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

  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id, {
      description: 'GitLab runner fleets: shared network, safety net, orphan reaper and spot fallback',
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
    if (orphanReaper.enabled) {
      this.orphanReaper = new OrphanReaper(this, 'OrphanReaper', { fleets, gitlab, settings: orphanReaper });
    }
    // Also with every fleet's fallback off: a group left in fallback is then returned to its configured base.
    if (fleets.some((fleet) => fleet.computeType === 'spot')) {
      this.spotFallback = new SpotFallback(this, 'SpotFallback', { fleets, gitlab });
    }
    for (const [key, value] of Object.entries(props.config.awsTags)) Tags.of(this).add(key, value);
  }

  /** The default VPC; throws when every fleet brings its own network. */
  public get vpc(): ec2.IVpc {
    if (!this.runnerVpc) throw new Error('the shared stack has no VPC: every fleet has a network config');
    return this.runnerVpc.vpc;
  }
}
