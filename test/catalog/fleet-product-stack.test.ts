import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_PRODUCTS, defaultFormValues, productFleetFromForm, productJitterMinutes, type ProductFormValues } from '../../lib/config';
import { RunnerFleet } from '../../lib/fleet/runner-fleet';
import { fleetRegistryParameterName } from '../../lib/identity/fleet-registry';
import { resolveWith, synthCatalog, type CatalogUnderTest, type CfnTemplate } from '../support/catalog-helpers';
import { TEST_GITLAB } from '../support/stack-helpers';

let catalog: CatalogUnderTest;
let spot: Template;
let spotJson: CfnTemplate;
let floorJson: CfnTemplate;

beforeAll(() => {
  catalog = synthCatalog();
  const stacks = catalog.stacks.catalog!.productStacks;
  spot = catalog.productTemplate(stacks['graviton-spot']!);
  spotJson = catalog.productJson(stacks['graviton-spot']!);
  floorJson = catalog.productJson(stacks['graviton-spot-floor']!);
});

describe('fleet product form', () => {
  it('asks for the few fields of an easy button (plus the AMI parameter of the launch template)', () => {
    expect(Object.keys(spotJson.Parameters).filter((name) => !name.startsWith('SsmParameterValue'))).toEqual([
      'FleetName',
      'GitLabUrl',
      'RunnerToken',
      'ExistingTokenSecretName',
      'Size',
      'MaxInstances',
      'WorkingHoursInstances',
      'TimeZone',
      'WorkingDays',
      'WorkStartHour',
      'WorkEndHour',
      'VpcId',
      'SubnetIds',
      'PlatformVpcId',
      'PlatformSubnetIds',
    ]);
  });

  it('asks the floor product for its on-demand floor too', () => {
    expect(floorJson.Parameters.OnDemandFloor).toMatchObject({ Type: 'Number', Default: '1' });
  });

  it('never echoes the runner token and accepts only a glrt- token or nothing', () => {
    expect(spotJson.Parameters.RunnerToken).toMatchObject({ NoEcho: true, Default: '', AllowedPattern: '^(|glrt-[A-Za-z0-9_.-]{20,})$' });
    expect(spotJson.Parameters.RunnerToken.ConstraintDescription).toContain('glrt-');
  });

  it('constrains the fleet name, GitLab URL, time zone and secret name with patterns and explanations', () => {
    for (const name of ['FleetName', 'GitLabUrl', 'TimeZone', 'ExistingTokenSecretName', 'VpcId']) {
      expect(spotJson.Parameters[name].AllowedPattern, name).toBeTypeOf('string');
      expect(spotJson.Parameters[name].ConstraintDescription, name).toBeTypeOf('string');
    }
    expect(spotJson.Parameters.GitLabUrl.Default).toBe('https://gitlab.example.com');
  });

  it('offers only the sizes and instance counts the admin allows', () => {
    const onDemand = catalog.productJson(catalog.stacks.catalog!.productStacks['graviton-on-demand']!);
    expect(onDemand.Parameters.Size.AllowedValues).toEqual(['small', 'medium']);
    expect(onDemand.Parameters.MaxInstances.AllowedValues).toEqual(Array.from({ length: 10 }, (_v, i) => String(i + 1)));
    expect(spotJson.Parameters.WorkingHoursInstances.AllowedValues).toHaveLength(21);
  });

  it('groups and labels the fields for the console (AWS::CloudFormation::Interface)', () => {
    const ui = spotJson.Metadata!['AWS::CloudFormation::Interface'] as {
      ParameterGroups: Array<{ Label: { default: string }; Parameters: string[] }>;
      ParameterLabels: Record<string, { default: string }>;
    };
    expect(ui.ParameterGroups.map((g) => g.Label.default)).toEqual([
      'GitLab',
      'Capacity',
      'Working hours',
      'Network (optional)',
      'Runner platform (leave as is)',
    ]);
    expect(ui.ParameterGroups.flatMap((g) => g.Parameters).sort()).toEqual(Object.keys(spotJson.Parameters).sort());
    expect(ui.ParameterLabels.RunnerToken).toEqual({ default: 'Runner token (glrt-...)' });
  });

  it('checks working-hours instances against the maximum with a rule, for every choice', () => {
    const rule = spotJson.Rules!.WorkingHoursWithinMaximum;
    expect(rule.Assertions).toHaveLength(20);
    expect(rule.Assertions[2]).toEqual({
      Assert: {
        'Fn::Or': [
          { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'WorkingHoursInstances' }, '3'] }] },
          { 'Fn::Contains': [Array.from({ length: 18 }, (_v, i) => String(i + 3)), { Ref: 'MaxInstances' }] },
        ],
      },
      AssertDescription: 'WorkingHoursInstances must not exceed MaxInstances',
    });
  });

  it('has rules for the end of the working day, the token-or-secret choice and subnets with a VPC', () => {
    expect(Object.keys(spotJson.Rules!)).toEqual(['WorkingHoursWithinMaximum', 'WorkEndsAfterItStarts', 'TokenOrSecret', 'SubnetsWithVpc']);
    expect(Object.keys(floorJson.Rules!)).toContain('FloorWithinWorkingHours');
  });

  it('states its estimated monthly cost in the description', () => {
    expect(spotJson.Description).toMatch(/about USD \d+ a month/);
  });
});

describe('fleet product security', () => {
  it('requires IMDSv2 with a hop limit of 1 and an encrypted gp3 root volume', () => {
    spot.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1, HttpTokens: 'required' },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) })],
      }),
    });
  });

  it('opens no inbound port', () => {
    const groups = Object.values(spot.findResources('AWS::EC2::SecurityGroup'));
    expect(groups).toHaveLength(1);
    expect(groups[0].Properties.SecurityGroupIngress).toBeUndefined();
    spot.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('uses the token only as the value of the new secret: not in user data, outputs or any other resource', () => {
    const users = Object.entries(spotJson.Resources).filter(([, r]) => JSON.stringify(r).includes('"Ref":"RunnerToken"'));
    expect(users.map(([id]) => id)).toEqual(['RunnerTokenSecret']);
    expect(JSON.stringify(spotJson.Outputs)).not.toContain('RunnerToken"');
    expect(spotJson.Resources.RunnerTokenSecret.Condition).toBe('CreateTokenSecret');
  });

  it('creates every role under the catalog path with the permissions boundary', () => {
    const roles = Object.values(spot.findResources('AWS::IAM::Role'));
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      expect(role.Properties.Path).toBe('/gitlab-runner-fleet/');
      expect(JSON.stringify(role.Properties.PermissionsBoundary)).toContain(':policy/gitlab-runner-fleet/gitlab-runner-fleet-boundary');
    }
  });

  it('scopes the instance role to its own group and its own token secret', () => {
    const policy = JSON.stringify(spot.findResources('AWS::IAM::Policy'));
    expect(policy).toContain(':autoScalingGroupName/gitlab-runner-fleet-');
    expect(policy).toContain('{"Ref":"FleetName"}');
    // Calls AWS authorizes only on "*" are conditioned (e.g. Session Manager on this instance's ARN).
    const statements = Object.values(spot.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Resource: unknown; Condition?: unknown; Action: unknown }>,
    );
    for (const statement of statements.filter((st) => st.Resource === '*'))
      expect(statement.Condition, JSON.stringify(statement.Action)).toBeDefined();
  });
});

describe('fleet product lifecycle', () => {
  it('creates the group with the drain (terminate) and registration (launch) lifecycle hooks', () => {
    spot.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      LifecycleHookSpecificationList: [
        Match.objectLike({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', DefaultResult: 'ABANDON' }),
        Match.objectLike({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', DefaultResult: 'CONTINUE' }),
      ],
    });
  });

  it('registers the fleet in the SSM registry with its group, token secret and GitLab URL', () => {
    const resolve = resolveWith(spotJson, { FleetName: 'team-web' });
    const entry = resolve(spotJson.Resources.RegistryEntry.Properties) as { Name: string; Value: string };
    expect(entry.Name).toBe(fleetRegistryParameterName('team-web'));
    expect(JSON.parse(entry.Value)).toEqual({
      name: 'team-web',
      autoScalingGroupName: 'gitlab-runner-fleet-team-web',
      tokenSecretName: 'gitlab-runner-fleet/catalog.fleets/team-web/runner-token',
      gitlabUrl: 'https://gitlab.example.com',
    });
  });

  it('registers an existing secret by its name when the form names one', () => {
    const resolve = resolveWith(spotJson, {
      FleetName: 'team-web',
      ExistingTokenSecretName: 'gitlab-runner-fleet/catalog.fleets/shared/token',
    });
    const entry = resolve(spotJson.Resources.RegistryEntry.Properties) as { Value: string };
    expect(JSON.parse(entry.Value).tokenSecretName).toBe('gitlab-runner-fleet/catalog.fleets/shared/token');
  });
});

describe('a product stack from parameters and a fleet stack from the same literal values', () => {
  const form: ProductFormValues = {
    ...defaultFormValues('team-web'),
    size: 'medium',
    maxInstances: 6,
    workingHoursInstances: 3,
    timeZone: 'Europe/Berlin',
    workingDays: 'sun-thu',
    workStartHour: 7,
    workEndHour: 19,
  };
  const values = {
    FleetName: form.fleetName,
    Size: form.size,
    MaxInstances: String(form.maxInstances),
    WorkingHoursInstances: String(form.workingHoursInstances),
    TimeZone: form.timeZone,
    WorkingDays: form.workingDays,
    WorkStartHour: '07',
    WorkEndHour: '19',
    RunnerToken: 'x'.repeat(4),
  };
  let literal: Template;
  let resolve: (node: unknown) => unknown;

  beforeAll(() => {
    // GIVEN the literal fleet the form stands for, built by the same construct in an ordinary stack
    const product = CATALOG_PRODUCTS['graviton-spot'];
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Literal');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });
    new RunnerFleet(stack, 'Fleet', {
      fleet: productFleetFromForm(product, form, productJitterMinutes(product.id)),
      gitlab: TEST_GITLAB,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    });
    literal = Template.fromStack(stack);
    resolve = resolveWith(spotJson, values);
  });

  const fleetTypes = (resources: Record<string, { Type: string }>) =>
    [...new Set(Object.values(resources).map((r) => r.Type))]
      .filter((t) => !/::(VPC|Subnet|Route|RouteTable|InternetGateway|VPCGatewayAttachment|SubnetRouteTableAssociation)$/.test(t))
      .sort();

  it('have the same resource types, plus the product token secret and registry entry', () => {
    expect(fleetTypes(spotJson.Resources)).toEqual(
      [...fleetTypes(literal.toJSON().Resources), 'AWS::SecretsManager::Secret', 'AWS::SSM::Parameter'].sort(),
    );
  });

  it('have the same launch template security settings', () => {
    const data = (t: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }) =>
      Object.values(t.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate')!.Properties!.LaunchTemplateData as Record<
        string,
        unknown
      >;
    const product = resolve(data(spotJson)) as Record<string, unknown>;
    const fleet = data(literal.toJSON() as CfnTemplate);
    expect(product.MetadataOptions).toEqual(fleet.MetadataOptions);
    expect(product.BlockDeviceMappings).toEqual(fleet.BlockDeviceMappings);
    expect(Object.keys(product).sort()).toEqual(Object.keys(fleet).sort());
  });

  it('pick the same instance types', () => {
    const overrides = (t: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }) =>
      JSON.stringify(
        (
          Object.values(t.Resources).find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!.Properties!
            .MixedInstancesPolicy as Record<string, { Overrides: unknown }>
        ).LaunchTemplate.Overrides,
      );
    expect(JSON.parse(overrides({ Resources: resolve(spotJson.Resources) as CfnTemplate['Resources'] }))).toEqual(
      JSON.parse(overrides(literal.toJSON() as CfnTemplate)),
    );
  });

  it('have equivalent scheduled actions: same recurrence, capacity and time zone', () => {
    const actions = (resources: unknown) =>
      Object.values(resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)
        .filter((r) => r.Type === 'AWS::AutoScaling::ScheduledAction')
        .map(({ Properties: p }) => ({
          Recurrence: p.Recurrence,
          MinSize: Number(p.MinSize),
          DesiredCapacity: Number(p.DesiredCapacity),
          TimeZone: p.TimeZone,
        }))
        .sort((a, b) => String(a.Recurrence).localeCompare(String(b.Recurrence)));
    const product = actions(resolve(spotJson.Resources));
    expect(product).toEqual(actions(literal.toJSON().Resources));
    expect(product).toHaveLength(2);
  });
});
