/**
 * The runner catalog: an AWS Service Catalog portfolio offering the runner platform product
 * and the easy-button fleet products, granted to IAM roles and role name patterns, shared with
 * accounts and organizational units, with tag options every launched fleet carries, and launch
 * constraints so end users need no rights beyond provisioning.
 */
import {
  Aspects,
  Aws,
  CfnOutput,
  type CfnResource,
  CrossStackReferences,
  ReferenceStrength,
  Lazy,
  RemovalPolicy,
  Stack,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as servicecatalog from 'aws-cdk-lib/aws-servicecatalog';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { CATALOG_PRODUCTS, type CatalogProductId, type CatalogSettings, type FleetConfig } from '../config';
import { FleetProductStack } from '../catalog/fleet-product-stack';
import { CatalogLaunchRoles, FLEET_LAUNCH_ROLE_NAME, PLATFORM_LAUNCH_ROLE_NAME, ProductRolesUnderBoundary } from '../catalog/launch-roles';
import { PlatformProductStack } from '../catalog/platform-product-stack';
import type { RunnerProductStack } from '../catalog/runner-product-stack';
import { skipCheckov } from '../catalog/checkov-skip';

export const CATALOG_STACK_NAME = 'gitlab-runner-fleet-catalog';
/** Deployed into every account the portfolio is shared with: the local launch roles. */
export const CATALOG_LAUNCH_ROLES_STACK_NAME = 'gitlab-runner-fleet-catalog-launch-roles';

export interface CatalogStackProps extends StackProps {
  readonly config: FleetConfig;
  readonly catalog: CatalogSettings;
  /** The launch roles, from the launch roles stack deployed in this account too. */
  readonly launchRoles: CatalogLaunchRoles;
}

export interface CatalogLaunchRolesStackProps extends StackProps {
  readonly config: FleetConfig;
  readonly catalog: CatalogSettings;
}

/**
 * A product version name that changes exactly when the product's template changes: its
 * fingerprint, computed when the catalog template is written. An earlier version stays in
 * Service Catalog, launchable, until an admin deprecates it (see docs/catalog.md).
 */
function templateVersionName(productStack: RunnerProductStack): string {
  return Lazy.string({ produce: () => `v-${productStack.templateFingerprint()}` });
}

export class CatalogStack extends Stack {
  public readonly portfolio: servicecatalog.Portfolio;
  public readonly assetBucket: s3.Bucket;
  public readonly tagOptions?: servicecatalog.TagOptions;
  public readonly launchRoles: CatalogLaunchRoles;
  public readonly platformProduct: servicecatalog.CloudFormationProduct;
  public readonly platformProductStack: PlatformProductStack;
  public readonly products: Partial<Record<CatalogProductId, servicecatalog.CloudFormationProduct>> = {};
  public readonly productStacks: Partial<Record<CatalogProductId, FleetProductStack>> = {};
  private readonly catalog: CatalogSettings;

  constructor(scope: Construct, id: string, props: CatalogStackProps) {
    super(scope, id, { description: 'GitLab runner fleets: the Service Catalog portfolio of runner fleet products', ...props });
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const { catalog, config } = props;
    this.catalog = catalog;

    this.assetBucket = new s3.Bucket(this, 'ProductAssets', {
      bucketName: catalog.assetBucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      // Launched products keep pointing at their version's assets.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    skipCheckov(
      this.assetBucket.node.defaultChild as CfnResource,
      'CKV_AWS_18',
      'Holds only the Lambda code of product versions, written by deployments of this stack; CloudTrail records changes.',
    );
    Validations.of(this.assetBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket only holds the Lambda code of the product versions, written by deployments of this stack; CloudTrail records who changed it.',
    });

    this.portfolio = new servicecatalog.Portfolio(this, 'Portfolio', {
      displayName: catalog.portfolioName,
      providerName: catalog.owner,
      description: 'Self-service GitLab runner fleets: launch the runner platform once per account, then a fleet per team.',
    });
    catalog.principals.roleArns.forEach((arn, i) =>
      this.portfolio.giveAccessToRole(iam.Role.fromRoleArn(this, `Principal${i}`, arn, { mutable: false })),
    );
    catalog.principals.roleNamePatterns.forEach((pattern, i) => {
      new servicecatalog.CfnPortfolioPrincipalAssociation(this, `PrincipalPattern${i}`, {
        portfolioId: this.portfolio.portfolioId,
        // IAM_PATTERN ARNs carry no account, so they apply in every account the portfolio is shared with.
        principalArn: `arn:${Aws.PARTITION}:iam:::role/${pattern}`,
        principalType: 'IAM_PATTERN',
      });
    });

    if (Object.keys(catalog.tagOptions).length > 0) {
      this.tagOptions = new servicecatalog.TagOptions(this, 'TagOptions', {
        allowedValuesForTags: Object.fromEntries(Object.entries(catalog.tagOptions).map(([key, values]) => [key, [...values]])),
      });
      this.portfolio.associateTagOptions(this.tagOptions);
    }

    this.launchRoles = props.launchRoles;
    // By name (no cross-stack export): a local launch role is looked up by name in the launching account.
    const fleetLaunchRole = iam.Role.fromRoleName(this, 'FleetLaunchRole', FLEET_LAUNCH_ROLE_NAME);
    const platformLaunchRole = iam.Role.fromRoleName(this, 'PlatformLaunchRole', PLATFORM_LAUNCH_ROLE_NAME);

    const productStackProps = { assetBucket: this.assetBucket };
    this.platformProductStack = new PlatformProductStack(this, 'RunnerPlatform', {
      ...productStackProps,
      gitlab: config.gitlab,
      orphanReaper: config.orphanReaper,
    });
    this.platformProduct = this.addProduct('RunnerPlatformProduct', this.platformProductStack, {
      name: 'GitLab runner platform (launch once per account)',
      description: this.platformProductStack.templateOptions.description ?? '',
    });
    this.portfolio.setLocalLaunchRole(this.platformProduct, platformLaunchRole, {
      description: 'Deploys the platform with the gitlab-runner-fleet-platform-launch role',
    });

    for (const [productId, limits] of Object.entries(catalog.products) as Array<
      [CatalogProductId, NonNullable<CatalogSettings['products'][CatalogProductId]>]
    >) {
      const product = CATALOG_PRODUCTS[productId];
      const stack = new FleetProductStack(this, `Product-${productId}`, { ...productStackProps, product, limits, gitlab: config.gitlab });
      this.productStacks[productId] = stack;
      const cfnProduct = this.addProduct(`Product${productId.replace(/-/g, '')}`, stack, {
        name: product.name,
        description: stack.description,
      });
      this.products[productId] = cfnProduct;
      this.portfolio.setLocalLaunchRole(cfnProduct, fleetLaunchRole, {
        description: 'Deploys the fleet with the gitlab-runner-fleet-launch role',
      });
    }

    for (const account of catalog.sharing.accounts) this.portfolio.shareWithAccount(account, { shareTagOptions: true });
    catalog.sharing.organizationalUnits.forEach((node, i) => this.shareWithOrganizationNode(node, i));

    for (const [key, value] of Object.entries(config.awsTags)) this.tags.setTag(key, value);
    new CfnOutput(this, 'PortfolioId', { value: this.portfolio.portfolioId });
    this.acknowledgeCdkProvidedFunctions();
  }

  /**
   * The functions CDK itself adds to this stack, created at synth (so acknowledged on the stack):
   * the BucketDeployment that copies product assets into the asset bucket, and the AwsCustomResource
   * that creates organization shares.
   */
  private acknowledgeCdkProvidedFunctions(): void {
    const findings: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'The CDK-provided BucketDeployment and AwsCustomResource functions log through the AWS managed basic execution policy; they run only during deployments of this stack.',
      'AwsSolutions-L1':
        'The runtime of the CDK-provided BucketDeployment function is chosen by aws-cdk-lib; it runs only while this stack deploys product assets.',
      'AwsSolutions-IAM5[Action::s3:GetObject*]': 'BucketDeployment reads the staged product assets (CDK-generated grant).',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': 'BucketDeployment reads the staged product assets (CDK-generated grant).',
      'AwsSolutions-IAM5[Action::s3:List*]': 'BucketDeployment lists the staged product assets and the asset bucket (CDK-generated grant).',
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]':
        'BucketDeployment writes to the asset bucket only (CDK-generated grant; prune is off).',
      'AwsSolutions-IAM5[Action::s3:Abort*]': 'BucketDeployment writes to the asset bucket only (CDK-generated grant).',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]':
        'The CDK bootstrap staging bucket of this account and region, where the product assets are staged.',
      'AwsSolutions-IAM5[Resource::<ProductAssets1920D89D.Arn>/*]': 'Objects of the product asset bucket this stack owns.',
      'AwsSolutions-IAM5[Resource::*]':
        'Organization portfolio shares: servicecatalog:CreatePortfolioShare/DeletePortfolioShare and the Organizations reads it makes support no resource-level permissions.',
    };
    for (const [id, reason] of Object.entries(findings)) Validations.of(this).acknowledge({ id, reason });
    for (const child of this.node.children) {
      if (child.node.id.startsWith('Custom::CDKBucketDeployment') && child.node.defaultChild) {
        skipCheckov(
          child.node.defaultChild as CfnResource,
          'CKV_AWS_173',
          'The CDK-provided BucketDeployment function has no secrets in its environment.',
        );
      }
    }
  }

  private addProduct(
    id: string,
    productStack: RunnerProductStack,
    info: { readonly name: string; readonly description: string },
  ): servicecatalog.CloudFormationProduct {
    Aspects.of(productStack).add(new ProductRolesUnderBoundary());
    const product = new servicecatalog.CloudFormationProduct(this, id, {
      productName: info.name,
      owner: this.catalog.owner,
      supportEmail: this.catalog.supportEmail,
      description: info.description,
      productVersions: [
        {
          productVersionName: templateVersionName(productStack),
          description: 'Built from the RunnerFleet construct of this release',
          cloudFormationTemplate: servicecatalog.CloudFormationTemplate.fromProductStack(productStack),
        },
      ],
    });
    this.portfolio.addProduct(product);
    return product;
  }

  /**
   * Shares with an organizational unit or the organization root, with principal sharing (the role
   * name patterns apply in the member accounts) and tag options. CloudFormation has no resource
   * for shares with organization nodes, so this calls the Service Catalog API.
   */
  private shareWithOrganizationNode(node: string, index: number): void {
    const parameters = {
      PortfolioId: this.portfolio.portfolioId,
      OrganizationNode: { Type: node.startsWith('r-') ? 'ORGANIZATION' : 'ORGANIZATIONAL_UNIT', Value: node },
    };
    const share = new cr.AwsCustomResource(this, `OrganizationShare${index}`, {
      onCreate: {
        service: 'ServiceCatalog',
        action: 'createPortfolioShare',
        parameters: { ...parameters, ShareTagOptions: true, SharePrincipals: true },
        physicalResourceId: cr.PhysicalResourceId.of(`${node}`),
      },
      onDelete: { service: 'ServiceCatalog', action: 'deletePortfolioShare', parameters },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: [
            'servicecatalog:CreatePortfolioShare',
            'servicecatalog:DeletePortfolioShare',
            'organizations:DescribeOrganization',
            'organizations:ListChildren',
            'organizations:DescribeOrganizationalUnit',
            'organizations:ListAccountsForParent',
            'organizations:ListParents',
          ],
          resources: ['*'],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    share.node.addDependency(this.portfolio);
    skipCheckov(
      share.node.findChild('CustomResourcePolicy').node.defaultChild as CfnResource,
      'CKV_AWS_109',
      'servicecatalog:CreatePortfolioShare and DeletePortfolioShare support no resource-level permissions; the function only shares this portfolio.',
    );
    // Member accounts of the OU read the product assets (Lambda code) when they launch.
    this.assetBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ReadAssetsFromOrganizationNode${index}`,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [this.assetBucket.arnForObjects('*')],
        conditions: { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': [`o-*/*${node}/*`] } },
      }),
    );
  }
}

/**
 * The launch roles, deployed in the catalog account (the catalog stack uses them) and in every
 * account the portfolio is shared with: a local launch role is looked up by name in the account
 * that launches the product.
 */
export class CatalogLaunchRolesStack extends Stack {
  public readonly launchRoles: CatalogLaunchRoles;

  constructor(scope: Construct, id: string, props: CatalogLaunchRolesStackProps) {
    super(scope, id, {
      description: 'GitLab runner fleets: the Service Catalog launch roles, for accounts the portfolio is shared with',
      ...props,
    });
    this.launchRoles = new CatalogLaunchRoles(this, 'LaunchRoles', { assetBucketName: props.catalog.assetBucketName });
    for (const [key, value] of Object.entries(props.config.awsTags)) this.tags.setTag(key, value);
  }
}
