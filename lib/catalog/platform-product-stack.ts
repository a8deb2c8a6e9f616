/**
 * The runner platform product: launched once per account (and region) before any fleet
 * product. It holds what every fleet of the account shares: the default VPC, the safety net and
 * the orphan reaper, which serve the fleets of the SSM fleet registry (fleets launched later
 * register themselves there), and the permissions boundary the fleet products' roles carry.
 */
import { Stack, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as servicecatalog from 'aws-cdk-lib/aws-servicecatalog';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { RunnerProductStack } from './runner-product-stack';
import type { GitLabSettings, OrphanReaperSettings } from '../config';
import { RunnerVpc } from '../fleet/fleet-network';
import { OrphanReaper } from '../fleet/orphan-reaper';
import { RunnerFleetSafetyNet } from '../fleet/safety-net';
import { FLEET_REGISTRY_PATH, PLATFORM_PARAMETERS } from '../identity/fleet-registry';
import { skipCheckov } from './checkov-skip';
import { acknowledgeWildcards, CATALOG_IAM_PATH, fleetBoundaryPolicyStatements, PERMISSIONS_BOUNDARY_NAME } from './launch-roles';

export interface PlatformProductStackProps extends servicecatalog.ProductStackProps {
  /** The GitLab the platform's Lambdas serve; registry entries of other GitLabs are ignored (and logged). */
  readonly gitlab: GitLabSettings;
  /** The orphan reaper's interval, grace period and API token secret (the reaper is always on in the platform). */
  readonly orphanReaper: OrphanReaperSettings;
}

export class PlatformProductStack extends RunnerProductStack {
  public readonly runnerVpc: RunnerVpc;
  public readonly safetyNet: RunnerFleetSafetyNet;
  public readonly orphanReaper: OrphanReaper;
  public readonly permissionsBoundary: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PlatformProductStackProps) {
    super(scope, id, props);
    this.templateOptions.description =
      'GitLab runner platform: the shared VPC, the safety net and the orphan reaper for the runner fleets of this account (launch once per account and region, before any fleet).';

    // Every role of the fleet products (and of this product) is created under this boundary.
    // The reaper's API token is not a fleet token: the boundary lets it be read by name, beside the fleets' prefix.
    const boundaryStatements = fleetBoundaryPolicyStatements(Stack.of(this), [props.orphanReaper.apiTokenSecretName]);
    this.permissionsBoundary = new iam.ManagedPolicy(this, 'PermissionsBoundary', {
      managedPolicyName: PERMISSIONS_BOUNDARY_NAME,
      path: CATALOG_IAM_PATH,
      description: 'Upper bound of the roles the GitLab runner fleet products create',
      statements: boundaryStatements,
    });
    skipCheckov(
      this.permissionsBoundary.node.defaultChild as CfnResource,
      'CKV_AWS_111',
      'A permissions boundary grants nothing by itself; it caps the roles the fleet products create.',
    );
    acknowledgeWildcards(
      this.permissionsBoundary,
      boundaryStatements,
      'A permissions boundary grants nothing by itself: it caps the roles the fleet products create (instances, safety net, reaper, flow logs), whose own policies are scoped to the fleet resources.',
    );

    this.runnerVpc = new RunnerVpc(this, 'Network');
    new ssm.StringParameter(this, 'VpcIdParameter', {
      parameterName: PLATFORM_PARAMETERS.vpcId,
      stringValue: this.runnerVpc.vpc.vpcId,
      description: 'VPC of the GitLab runner platform, the default of fleet products',
    });
    new ssm.StringListParameter(this, 'SubnetIdsParameter', {
      parameterName: PLATFORM_PARAMETERS.subnetIds,
      stringListValue: this.runnerVpc.vpc.publicSubnets.map((subnet) => subnet.subnetId),
      description: 'Subnets of the GitLab runner platform, the default of fleet products',
    });

    this.safetyNet = new RunnerFleetSafetyNet(this, 'SafetyNet', { fleets: [], gitlab: props.gitlab, registryPath: FLEET_REGISTRY_PATH });
    this.orphanReaper = new OrphanReaper(this, 'OrphanReaper', {
      fleets: [],
      gitlab: props.gitlab,
      settings: { ...props.orphanReaper, enabled: true },
      registryPath: FLEET_REGISTRY_PATH,
    });
  }
}
