/**
 * Builds the CDK app for a fleet configuration: one shared stack plus one stack per fleet.
 * Used by bin/app.ts, the tests and the benchmark. Stacks are environment-agnostic (no
 * account or region), so synth needs no credentials.
 */
import { App, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FleetConfig } from '../config';
import { FleetStack } from './fleet-stack';
import { SharedStack } from './shared-stack';

export const SHARED_STACK_NAME = 'gitlab-runner-fleet-shared';

/** The stack of one fleet. */
export function fleetStackName(fleetName: string): string {
  return `gitlab-runner-fleet-${fleetName}`;
}

export interface FleetStacksOptions {
  /**
   * Run the cdk-nag AwsSolutions checks at synth; an unacknowledged finding fails synthesis.
   * @default false
   */
  readonly nag?: boolean;
}

export interface FleetAppOptions extends FleetStacksOptions {
  /**
   * Cloud assembly directory.
   * @default - the CDK default (cdk.out, or the directory the CDK CLI passes)
   */
  readonly outdir?: string;
  /**
   * Run CDK's built-in CloudFormation schema validation at synth. It costs about 4 s to start
   * (a WASM engine) plus ~50 ms per stack; benchmarks and unit tests may turn it off.
   * @default true
   */
  readonly cloudFormationValidation?: boolean;
}

export interface FleetStacks {
  readonly shared: SharedStack;
  /** In config order. */
  readonly fleets: readonly FleetStack[];
}

/** Adds the shared stack and one stack per fleet to an existing app. */
export function addFleetStacks(app: App, config: FleetConfig, options: FleetStacksOptions = {}): FleetStacks {
  const shared = new SharedStack(app, SHARED_STACK_NAME, { config });
  const fleets = config.fleets.map((fleet) => {
    const stack = new FleetStack(app, fleetStackName(fleet.name), {
      fleet,
      gitlab: config.gitlab,
      defaultVpc: fleet.network ? undefined : shared.vpc,
      awsTags: config.awsTags,
      // Referenced only by fleets that own their runner: they deny token reads to everyone else.
      tokenReaders: fleet.managedRunner ? sharedTokenReaders(shared) : undefined,
    });
    // The safety net's event rules should exist before the first instance launches.
    stack.addStackDependency(shared, 'the safety net watches fleet instances from the first launch');
    return stack;
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { shared, fleets };
}

/** The shared Lambdas that deregister runner managers with the fleets' runner tokens. */
function sharedTokenReaders(shared: SharedStack): iam.IRole[] {
  return [shared.safetyNet.function.role, shared.orphanReaper?.function.role].filter((role): role is iam.IRole => role !== undefined);
}

/** A new app holding the fleet stacks for `config`. */
export function createFleetApp(config: FleetConfig, options: FleetAppOptions = {}): App {
  const app = new App({
    outdir: options.outdir,
    builtinCloudFormationValidation: options.cloudFormationValidation ?? true,
    // As the CDK CLI does by default: construct stack traces in the metadata would make output depend on the caller.
    stackTraces: false,
    context: { 'aws:cdk:disable-creation-stack-traces': true },
  });
  addFleetStacks(app, config, options);
  return app;
}
