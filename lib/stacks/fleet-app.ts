/**
 * Builds the CDK app for a fleet configuration: one shared stack plus one stack per fleet.
 * Used by bin/app.ts, the tests and the benchmark. Stacks are environment-agnostic (no
 * account or region), so synth needs no credentials.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_MONITORING_SETTINGS, type FleetConfig } from '../config';
import { FLEETS_PER_DASHBOARD } from '../fleet/fleet-monitoring';
import { FleetStack } from './fleet-stack';
import { SharedStack } from './shared-stack';
import { fleetStackName, sharedStackName } from '../identity/deployment';
import { CATALOG_LAUNCH_ROLES_STACK_NAME, CATALOG_STACK_NAME, CatalogLaunchRolesStack, CatalogStack } from './catalog-stack';

/** The shared stack of a config without a deployment name (see sharedStackName for named deployments). */
export const SHARED_STACK_NAME = sharedStackName();

export { fleetStackName, sharedStackName };

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
   * Run CDK's built-in CloudFormation schema validation at synth, with its findings as errors
   * (by default CDK only warns). It costs about 3 s to start a WASM engine, ~40 ms per stack and
   * seconds before the process can exit, so synth leaves it off; CI runs it once as its own gate
   * (`cfn-validate`), beside cfn-lint and checkov. See docs/scaling-limits.md.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
}

export interface FleetStacks {
  readonly shared: SharedStack;
  /** In config order. */
  readonly fleets: readonly FleetStack[];
  /** Present when the config has a `catalog:` section. */
  readonly catalog?: CatalogStack;
  /** Present with `catalog`; deploy it in every account the portfolio is shared with too. */
  readonly catalogLaunchRoles?: CatalogLaunchRolesStack;
}

/** Adds the shared stack and one stack per fleet to an existing app. */
export function addFleetStacks(app: App, config: FleetConfig, options: FleetStacksOptions = {}): FleetStacks {
  const shared = new SharedStack(app, sharedStackName(config.deployment), { config });
  const fleets = config.fleets.map((fleet) => {
    const stack = new FleetStack(app, fleetStackName(fleet.name, fleet.deployment), {
      fleet,
      gitlab: config.gitlab,
      defaultVpc: fleet.network ? undefined : shared.vpc,
      awsTags: config.awsTags,
      alarms: (config.monitoring ?? DEFAULT_MONITORING_SETTINGS).alarms,
      alarmTopic: shared.monitoring?.alarmTopic,
      // Referenced only by fleets that own their runner: they deny token reads to everyone else.
      tokenReaders: fleet.managedRunner ? sharedTokenReaders(shared) : undefined,
      // By name: the shared stack always has the function, and the stack dependency below deploys it first.
      scheduleCatchUp: true,
    });
    // The safety net's event rules should exist before the first instance launches.
    stack.addStackDependency(shared, 'the safety net watches fleet instances from the first launch');
    return stack;
  });
  const monitoring = shared.monitoring;
  if (monitoring && (config.monitoring ?? DEFAULT_MONITORING_SETTINGS).dashboard && fleets.length > FLEETS_PER_DASHBOARD) {
    // One dashboard per chunk of fleets, in the chunk's first fleet stack: a dashboard body grows
    // with its rows, and 1,000 rows would not fit the shared stack's template.
    for (let first = 0; first < fleets.length; first += FLEETS_PER_DASHBOARD) {
      monitoring.addDashboard(fleets[first], 'FleetsDashboard', config.fleets.slice(first, first + FLEETS_PER_DASHBOARD));
    }
  }
  let catalog: CatalogStack | undefined;
  let catalogLaunchRoles: CatalogLaunchRolesStack | undefined;
  if (config.catalog) {
    catalogLaunchRoles = new CatalogLaunchRolesStack(app, CATALOG_LAUNCH_ROLES_STACK_NAME, { config, catalog: config.catalog });
    catalog = new CatalogStack(app, CATALOG_STACK_NAME, { config, catalog: config.catalog, launchRoles: catalogLaunchRoles.launchRoles });
    catalog.addStackDependency(catalogLaunchRoles, 'the launch constraints name the launch roles');
  }
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { shared, fleets, catalog, catalogLaunchRoles };
}

/** Context key that turns the built-in validation's findings from warnings into errors. */
const VALIDATE_AGAINST_DEFAULT_RULES = '@aws-cdk/core:validateAgainstDefaultRules';

/** App props shared by bin/app.ts and {@link createFleetApp}. */
export function fleetAppProps(options: { readonly cloudFormationValidation: boolean }): AppProps {
  return {
    builtinCloudFormationValidation: options.cloudFormationValidation,
    // As the CDK CLI does by default: construct stack traces in the metadata would make output depend on the caller.
    stackTraces: false,
    context: {
      'aws:cdk:disable-creation-stack-traces': true,
      ...(options.cloudFormationValidation ? { [VALIDATE_AGAINST_DEFAULT_RULES]: true } : {}),
    },
  };
}

/** The shared Lambdas that deregister runner managers with the fleets' runner tokens. */
function sharedTokenReaders(shared: SharedStack): iam.IRole[] {
  return [shared.safetyNet.function.role, shared.orphanReaper?.function.role].filter((role): role is iam.IRole => role !== undefined);
}

/** A new app holding the fleet stacks for `config`. */
export function createFleetApp(config: FleetConfig, options: FleetAppOptions = {}): App {
  const app = new App({
    outdir: options.outdir,
    ...fleetAppProps({ cloudFormationValidation: options.cloudFormationValidation ?? false }),
  });
  addFleetStacks(app, config, options);
  return app;
}
