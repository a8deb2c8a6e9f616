import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_PRODUCTS, loadFleetConfig, parseFleetConfig } from '../../lib/config';
import { productCost, productCostText } from '../../lib/cost';
import { FLEET_LAUNCH_ROLE_NAME, PLATFORM_LAUNCH_ROLE_NAME } from '../../lib/catalog/launch-roles';
import { awsSolutionsFindings } from '../fleet/nag';
import { CATALOG_EXAMPLE, synthCatalog, type CatalogUnderTest } from '../support/catalog-helpers';

let catalog: CatalogUnderTest;
let template: Template;
let roles: Template;

beforeAll(() => {
  catalog = synthCatalog();
  template = Template.fromStack(catalog.stacks.catalog!);
  roles = Template.fromStack(catalog.stacks.catalogLaunchRoles!);
});

describe('catalog stack: portfolio and access', () => {
  it('creates the portfolio with the configured name and owner', () => {
    template.hasResourceProperties('AWS::ServiceCatalog::Portfolio', {
      DisplayName: 'GitLab runner fleets',
      ProviderName: 'Platform team',
    });
  });

  it('grants the portfolio to the configured role ARN (IAM principal)', () => {
    template.hasResourceProperties('AWS::ServiceCatalog::PortfolioPrincipalAssociation', {
      PrincipalARN: 'arn:aws:iam::123456789012:role/Developers',
      PrincipalType: 'IAM',
    });
  });

  it('grants the portfolio to the role name pattern, account-free so it applies in shared accounts (IAM_PATTERN)', () => {
    template.hasResourceProperties('AWS::ServiceCatalog::PortfolioPrincipalAssociation', {
      PrincipalARN: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam:::role/AWSReservedSSO_RunnerUsers_*']] },
      PrincipalType: 'IAM_PATTERN',
    });
  });

  it('shares the portfolio with the configured account, tag options included', () => {
    template.hasResourceProperties('AWS::ServiceCatalog::PortfolioShare', { AccountId: '210987654321', ShareTagOptions: true });
  });

  it('shares with the organizational unit with principal sharing, through the Service Catalog API', () => {
    const shares = template.findResources('Custom::AWS');
    const create = JSON.stringify(Object.values(shares)[0].Properties.Create);
    expect(create).toContain('createPortfolioShare');
    expect(create).toContain('\\"SharePrincipals\\":true');
    expect(create).toContain('ou-ab12-cd34ef56');
  });

  it('lets member accounts of the OU read the product assets', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:GetObject',
            Condition: { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': ['o-*/*ou-ab12-cd34ef56/*'] } },
          }),
        ]),
      },
    });
  });

  it('creates one tag option per allowed value and associates them with the portfolio', () => {
    template.resourceCountIs('AWS::ServiceCatalog::TagOption', 6);
    template.hasResourceProperties('AWS::ServiceCatalog::TagOption', { Key: 'cost-center', Value: '1001' });
    template.hasResourceProperties('AWS::ServiceCatalog::TagOption', { Key: 'team', Value: 'payments' });
    template.resourceCountIs('AWS::ServiceCatalog::TagOptionAssociation', 6);
  });
});

describe('catalog stack: products', () => {
  it('offers the runner platform and the four configured fleet products', () => {
    const names = Object.values(template.findResources('AWS::ServiceCatalog::CloudFormationProduct')).map((p) => p.Properties.Name);
    expect(names).toEqual(['GitLab runner platform (launch once per account)', ...Object.values(CATALOG_PRODUCTS).map((p) => p.name)]);
  });

  it("shows each fleet product's estimated cost from the cost model in its description", () => {
    const product = CATALOG_PRODUCTS['graviton-spot'];
    template.hasResourceProperties('AWS::ServiceCatalog::CloudFormationProduct', {
      Name: product.name,
      Description: `${product.summary} ${productCostText(productCost(product))}`,
    });
    expect(productCostText(productCost(product))).toMatch(
      /about USD \d+ a month; each further working-hours instance adds about USD \d+ a month/,
    );
  });

  it('names each product version after its template, so a changed construct is a new version', () => {
    const versions = Object.values(template.findResources('AWS::ServiceCatalog::CloudFormationProduct')).map(
      (p) => p.Properties.ProvisioningArtifactParameters[0].Name,
    );
    expect(versions.every((v: string) => /^v-[0-9a-f]{12}$/.test(v))).toBe(true);
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('gives a product a new version name when its template changes, and keeps the others', () => {
    // GIVEN the same catalog with a lower instance limit on one product
    const config = loadFleetConfig(CATALOG_EXAMPLE);
    const changed = parseFleetConfig({
      gitlab: { url: config.gitlab.url },
      fleets: [{ name: 'platform-builds', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 4 } }],
      catalog: { ...config.catalog, products: { ...config.catalog!.products, 'graviton-spot': { maxInstances: 5 } } },
    });
    const versionOf = (t: Template, name: string) =>
      Object.values(t.findResources('AWS::ServiceCatalog::CloudFormationProduct')).find((p) => p.Properties.Name === name)!.Properties
        .ProvisioningArtifactParameters[0].Name;
    // WHEN it is synthesized
    const other = Template.fromStack(synthCatalog(changed).stacks.catalog!);
    // THEN only that product's version changes
    expect(versionOf(other, CATALOG_PRODUCTS['graviton-spot'].name)).not.toBe(versionOf(template, CATALOG_PRODUCTS['graviton-spot'].name));
    expect(versionOf(other, CATALOG_PRODUCTS['x86-on-demand'].name)).toBe(versionOf(template, CATALOG_PRODUCTS['x86-on-demand'].name));
  });

  it('launches the platform product and every fleet product through a local launch role', () => {
    template.resourceCountIs('AWS::ServiceCatalog::LaunchRoleConstraint', 5);
    template.hasResourceProperties('AWS::ServiceCatalog::LaunchRoleConstraint', { LocalRoleName: PLATFORM_LAUNCH_ROLE_NAME });
    expect(
      Object.values(template.findResources('AWS::ServiceCatalog::LaunchRoleConstraint')).filter(
        (c) => c.Properties.LocalRoleName === FLEET_LAUNCH_ROLE_NAME,
      ),
    ).toHaveLength(4);
  });
});

describe('launch roles', () => {
  const fleetPolicy = () =>
    Object.values(roles.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.Roles).includes('FleetLaunchRole'))!
      .Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
  const statement = (sid: string) => fleetPolicy().find((s) => s.Sid === sid)!;

  it('are assumed by Service Catalog only', () => {
    roles.hasResourceProperties('AWS::IAM::Role', {
      RoleName: FLEET_LAUNCH_ROLE_NAME,
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'servicecatalog.amazonaws.com' } })] },
    });
  });

  it('create roles only under the catalog path and with the permissions boundary', () => {
    const create = statement('FleetRolesWithBoundary');
    expect(create.Action).toContain('iam:CreateRole');
    expect(JSON.stringify(create.Resource)).toContain(':role/gitlab-runner-fleet/*');
    expect(JSON.stringify(create.Condition)).toContain('iam:PermissionsBoundary');
    expect(JSON.stringify(create.Condition)).toContain('policy/gitlab-runner-fleet/gitlab-runner-fleet-boundary');
  });

  it('never remove the boundary from a role', () => {
    expect(statement('KeepTheBoundary')).toMatchObject({ Effect: 'Deny', Action: 'iam:DeleteRolePermissionsBoundary', Resource: '*' });
  });

  it('pass fleet roles only to EC2, Lambda and flow logs', () => {
    expect(statement('PassFleetRoles').Condition).toEqual({
      StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'lambda.amazonaws.com', 'vpc-flow-logs.amazonaws.com'] },
    });
  });

  it('manage only fleet-named groups, token secrets and registry entries', () => {
    expect(JSON.stringify(statement('FleetGroups').Resource)).toContain(':autoScalingGroupName/gitlab-runner-fleet-*');
    expect(JSON.stringify(statement('OwnTokenSecret').Resource)).toContain(':secret:gitlab-runner-fleet/catalog.fleets/*');
    expect(JSON.stringify(statement('FleetRegistry').Resource)).toContain(':parameter/gitlab-runner-fleet/registry/*');
  });

  it('give the fleet launch role no network, Lambda or policy management', () => {
    const actions = fleetPolicy()
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => s.Action as string[]);
    for (const action of ['ec2:CreateVpc', 'lambda:CreateFunction', 'iam:CreatePolicy', 'iam:CreatePolicyVersion'])
      expect(actions).not.toContain(action);
  });
});

describe('catalog nag', () => {
  it('has no unacknowledged AwsSolutions finding in the catalog, launch roles and product stacks', () => {
    expect(awsSolutionsFindings(catalog.app)).toEqual([]);
  });
});
