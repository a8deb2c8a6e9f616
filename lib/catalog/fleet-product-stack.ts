/**
 * One easy-button product of the runner catalog: a Service Catalog ProductStack whose form
 * fields (CloudFormation parameters) feed the same RunnerFleet construct a `cdk deploy` fleet
 * uses. What can only be checked at deploy time is checked by parameter constraints and
 * template rules, with messages written for the person filling in the form.
 */
import {
  Annotations,
  Aws,
  Lazy,
  CfnCondition,
  CfnMapping,
  CfnOutput,
  CfnParameter,
  CfnRule,
  Fn,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicecatalog from 'aws-cdk-lib/aws-servicecatalog';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { RunnerProductStack } from './runner-product-stack';
import {
  CONCURRENCY_BY_SIZE,
  FORM_DEFAULTS,
  productFleetSpec,
  productJitterMinutes,
  WORK_END_HOURS,
  WORK_START_HOURS,
  WORKING_DAYS_CHOICES,
  INSTANCE_TYPES_BY_SIZE,
  type CatalogProductDefinition,
  type CatalogProductSettings,
  type GitLabSettings,
} from '../config';
import { productCost, productCostText } from '../cost/product-cost';
import { RunnerFleet } from '../fleet/runner-fleet';
import { fleetRegistryParameterName, PLATFORM_PARAMETERS, REGISTERED_TOKEN_SECRET_PREFIX } from '../identity/fleet-registry';
import { skipCheckov } from './checkov-skip';
import { hourKey, ParameterScheduledScaling } from './parameter-scheduled-scaling';

/** GitLab URLs the form accepts: https, a host, an optional port and path, no trailing slash. */
export const GITLAB_URL_PATTERN = '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$';
/** A runner authentication token, or nothing (when an existing secret is named instead). */
export const RUNNER_TOKEN_PATTERN = '^(|glrt-[A-Za-z0-9_.-]{20,})$';
export const FLEET_NAME_PATTERN = '^[a-z][a-z0-9-]{0,30}[a-z0-9]$';
export const TIME_ZONE_PATTERN = '^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$';

export interface FleetProductStackProps extends servicecatalog.ProductStackProps {
  readonly product: CatalogProductDefinition;
  /** The sizes and the capacity limit the admin allows for this product. */
  readonly limits: CatalogProductSettings;
  /** The organisation's GitLab: the URL is the form's default; CA bundle, mirror and download URL apply as configured. */
  readonly gitlab: GitLabSettings;
  /**
   * Minutes the working-hours window starts early and ends late.
   * @default - derived from the product id (productJitterMinutes)
   */
  readonly jitterMinutes?: number;
}

/** The parameters of a product's form, by logical id. */
export interface FleetProductParameters {
  readonly fleetName: CfnParameter;
  readonly gitlabUrl: CfnParameter;
  readonly runnerToken: CfnParameter;
  readonly existingTokenSecretName: CfnParameter;
  readonly size: CfnParameter;
  readonly maxInstances: CfnParameter;
  readonly workingHoursInstances: CfnParameter;
  readonly onDemandFloor?: CfnParameter;
  readonly timeZone: CfnParameter;
  readonly workingDays: CfnParameter;
  readonly workStartHour: CfnParameter;
  readonly workEndHour: CfnParameter;
  readonly vpcId: CfnParameter;
  readonly subnetIds: CfnParameter;
  readonly platformVpcId: CfnParameter;
  readonly platformSubnetIds: CfnParameter;
}

export class FleetProductStack extends RunnerProductStack {
  public readonly product: CatalogProductDefinition;
  public readonly parameters: FleetProductParameters;
  public readonly runnerFleet: RunnerFleet;
  public readonly schedule: ParameterScheduledScaling;
  /** Created only when the form carries a token (condition CreateTokenSecret). */
  public readonly tokenSecret: secretsmanager.CfnSecret;
  public readonly registryEntry: ssm.CfnParameter;
  /** The product description: what it is for, and its estimated cost. */
  public readonly description: string;

  constructor(scope: Construct, id: string, props: FleetProductStackProps) {
    super(scope, id, props);
    const { product, limits } = props;
    this.product = product;
    const counts = (from: number) => Array.from({ length: limits.maxInstances - from + 1 }, (_v, i) => String(from + i));
    const clamp = (value: number, from: number) => String(Math.min(Math.max(value, from), limits.maxInstances));
    const param = (logicalId: string, p: ConstructorParameters<typeof CfnParameter>[2]) => new CfnParameter(this, logicalId, p);

    const p: FleetProductParameters = {
      fleetName: param('FleetName', {
        type: 'String',
        description: 'Unique in this account; names the Auto Scaling group gitlab-runner-fleet-<name> and the runners.',
        allowedPattern: FLEET_NAME_PATTERN,
        constraintDescription: 'must be 2-32 characters of a-z, 0-9 and -, start with a letter and not end with -',
      }),
      gitlabUrl: param('GitLabUrl', {
        type: 'String',
        default: props.gitlab.url,
        description: "The GitLab the runners register with. Must be the runner platform's GitLab, or its safety net ignores the fleet.",
        allowedPattern: GITLAB_URL_PATTERN,
        constraintDescription: 'must be an https:// URL without a trailing slash, e.g. https://gitlab.example.com',
      }),
      runnerToken: param('RunnerToken', {
        type: 'String',
        noEcho: true,
        default: '',
        description:
          'The glrt- runner authentication token (GitLab: Settings > CI/CD > Runners > New runner). Stored in a new Secrets Manager secret; never in user data or outputs. Leave empty when naming an existing secret below.',
        allowedPattern: RUNNER_TOKEN_PATTERN,
        constraintDescription: 'must be empty or a runner authentication token starting with glrt-',
      }),
      existingTokenSecretName: param('ExistingTokenSecretName', {
        type: 'String',
        default: '',
        description: `Instead of a token: the name of an existing Secrets Manager secret holding it, under ${REGISTERED_TOKEN_SECRET_PREFIX}.`,
        allowedPattern: `^(|${REGISTERED_TOKEN_SECRET_PREFIX}[A-Za-z0-9/_+=.@-]{1,480})$`,
        constraintDescription: `must be empty or a secret name starting with ${REGISTERED_TOKEN_SECRET_PREFIX} (the platform's safety net can read only those)`,
      }),
      size: param('Size', {
        type: 'String',
        default: limits.allowedSizes.includes(FORM_DEFAULTS.size) ? FORM_DEFAULTS.size : limits.allowedSizes[0],
        allowedValues: [...limits.allowedSizes],
        description: `Instance size: ${limits.allowedSizes
          .map((size) => `${size} = ${INSTANCE_TYPES_BY_SIZE[product.architecture][size][0]} (${CONCURRENCY_BY_SIZE[size]} jobs at once)`)
          .join(', ')}.`,
      }),
      maxInstances: param('MaxInstances', {
        type: 'Number',
        default: clamp(FORM_DEFAULTS.maxInstances, 1),
        allowedValues: counts(1),
        description: `Upper bound of the fleet (at most ${limits.maxInstances}).`,
      }),
      workingHoursInstances: param('WorkingHoursInstances', {
        type: 'Number',
        default: clamp(FORM_DEFAULTS.workingHoursInstances, 0),
        allowedValues: counts(0),
        description: 'Instances during working hours; outside them the fleet scales to zero. At most MaxInstances.',
      }),
      onDemandFloor: product.onDemandFloor
        ? param('OnDemandFloor', {
            type: 'Number',
            default: clamp(FORM_DEFAULTS.onDemandFloor, 1),
            allowedValues: counts(1),
            description: 'Of the working-hours instances, how many run on-demand (never reclaimed); the rest are spot.',
          })
        : undefined,
      timeZone: param('TimeZone', {
        type: 'String',
        default: FORM_DEFAULTS.timeZone,
        description: 'IANA time zone of the working hours, e.g. Europe/Berlin or America/New_York; daylight saving time is followed.',
        allowedPattern: TIME_ZONE_PATTERN,
        constraintDescription: 'must be an IANA time zone name such as Europe/Berlin, America/New_York or UTC',
      }),
      workingDays: param('WorkingDays', {
        type: 'String',
        default: FORM_DEFAULTS.workingDays,
        allowedValues: Object.keys(WORKING_DAYS_CHOICES),
        description: 'Days the runners are up.',
      }),
      workStartHour: param('WorkStartHour', {
        type: 'String',
        default: hourKey(FORM_DEFAULTS.workStartHour),
        allowedValues: WORK_START_HOURS.map(hourKey),
        description: 'Hour (local time) by which the runners are up; they start a few minutes before.',
      }),
      workEndHour: param('WorkEndHour', {
        type: 'String',
        default: hourKey(FORM_DEFAULTS.workEndHour),
        allowedValues: WORK_END_HOURS.map(hourKey),
        description: 'Hour (local time) after which the runners go away, finishing running jobs first. Later than WorkStartHour.',
      }),
      vpcId: param('VpcId', {
        type: 'String',
        default: '',
        description: "Optional: an existing VPC. Empty: the runner platform's VPC.",
        allowedPattern: '^(|vpc-[0-9a-f]{8,17})$',
        constraintDescription: 'must be empty or a VPC id such as vpc-0123456789abcdef0',
      }),
      subnetIds: param('SubnetIds', {
        type: 'CommaDelimitedList',
        default: '',
        description: 'With VpcId: subnets of that VPC with a route to the internet (comma-separated ids).',
      }),
      platformVpcId: param('PlatformVpcId', {
        type: 'AWS::SSM::Parameter::Value<String>',
        default: PLATFORM_PARAMETERS.vpcId,
        description: 'Leave as is: where the runner platform product publishes its VPC.',
      }),
      platformSubnetIds: param('PlatformSubnetIds', {
        type: 'AWS::SSM::Parameter::Value<List<String>>',
        default: PLATFORM_PARAMETERS.subnetIds,
        description: 'Leave as is: where the runner platform product publishes its subnets.',
      }),
    };
    this.parameters = p;
    this.addFormRules(p, limits.maxInstances);
    // Lazy: the AMI parameter the launch template adds (SSM public parameter) is grouped with the platform's.
    this.templateOptions.metadata = {
      'AWS::CloudFormation::Interface': Lazy.any({
        produce: () => {
          const known = new Set(Object.values(p).map((param: CfnParameter | undefined) => param?.logicalId));
          const others = this.node
            .findAll()
            .filter((c): c is CfnParameter => c instanceof CfnParameter && !known.has(c.logicalId))
            .map((c) => c.logicalId);
          return formInterface(p, others);
        },
      }),
    };

    // Instance types and jobs per instance for each size the admin allows.
    const sizes = new CfnMapping(this, 'Sizes', {
      mapping: Object.fromEntries(
        limits.allowedSizes.map((size) => {
          const [first, second, third] = INSTANCE_TYPES_BY_SIZE[product.architecture][size];
          return [size, { Type1: first, Type2: second, Type3: third, Concurrency: String(CONCURRENCY_BY_SIZE[size]) }];
        }),
      ),
    });
    const size = p.size.valueAsString;

    // The token: stored by this stack in a new secret, or an existing secret named in the form.
    const createSecret = new CfnCondition(this, 'CreateTokenSecret', {
      expression: Fn.conditionEquals(p.existingTokenSecretName.valueAsString, ''),
    });
    const fleetName = p.fleetName.valueAsString;
    const newSecretName = `${REGISTERED_TOKEN_SECRET_PREFIX}${fleetName}/runner-token`;
    this.tokenSecret = new secretsmanager.CfnSecret(this, 'RunnerTokenSecret', {
      name: newSecretName,
      description: `GitLab runner authentication token of fleet ${fleetName} (from the Service Catalog form)`,
      secretString: p.runnerToken.valueAsString,
    });
    this.tokenSecret.cfnOptions.condition = createSecret;
    // cfn-lint W1030 sees the parameter's empty default; the secret exists only with a token (rule TokenOrSecret).
    this.tokenSecret.addMetadata('cfn-lint', { config: { ignore_checks: ['W1030'] } });
    skipCheckov(
      this.tokenSecret,
      'CKV_AWS_149',
      'Encrypted with the account key aws/secretsmanager; only the fleet instance role and the platform Lambdas, scoped by name, may read it.',
    );
    Validations.of(this.tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A runner authentication token is issued and rotated by GitLab (token expiry and the runner token reset API), not by a Secrets Manager rotation Lambda; a new token is stored by updating the provisioned product.',
    });
    const tokenSecretName = Fn.conditionIf(createSecret.logicalId, newSecretName, p.existingTokenSecretName.valueAsString).toString();

    // Network: the form's VPC and subnets, or the runner platform's.
    const useOwnNetwork = new CfnCondition(this, 'UseOwnNetwork', {
      expression: Fn.conditionNot(Fn.conditionEquals(p.vpcId.valueAsString, '')),
    });
    const subnetIds = Token.asList(Fn.conditionIf(useOwnNetwork.logicalId, p.subnetIds.valueAsList, p.platformSubnetIds.valueAsList));
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Network', {
      vpcId: Fn.conditionIf(useOwnNetwork.logicalId, p.vpcId.valueAsString, p.platformVpcId.valueAsString).toString(),
      availabilityZones: [Fn.select(0, Fn.getAzs())],
      // A stand-in: the group's subnets are set from the parameters below.
      publicSubnetIds: [Fn.select(0, subnetIds)],
    });
    Annotations.of(vpc).acknowledgeWarning(
      '@aws-cdk/aws-ec2:noSubnetRouteTableId',
      'The imported network only gives the security group its VPC id; nothing reads route tables.',
    );

    const workingHours = p.workingHoursInstances.valueAsNumber;
    const fleet = productFleetSpec(product, {
      name: fleetName,
      instanceTypes: ['Type1', 'Type2', 'Type3'].map((key) => sizes.findInMap(size, key)),
      concurrency: Token.asNumber(sizes.findInMap(size, 'Concurrency')),
      maxInstances: p.maxInstances.valueAsNumber,
      workingHoursInstances: workingHours,
      onDemandFloor: p.onDemandFloor?.valueAsNumber ?? 0,
      runnerTokenSecretName: tokenSecretName,
    });
    this.runnerFleet = new RunnerFleet(this, 'Fleet', {
      fleet,
      gitlab: { ...props.gitlab, url: p.gitlabUrl.valueAsString },
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      runnerTokenSecret: secretsmanager.Secret.fromSecretNameV2(this, 'TokenSecret', tokenSecretName),
      externallyScheduled: true,
    });
    const group = this.runnerFleet.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    group.vpcZoneIdentifier = subnetIds;
    // Instances read the token at boot, so the group waits for the secret when this stack creates it: a
    // conditional reference orders the two (a DependsOn on a conditional resource is invalid when it is absent).
    group.addMetadata('RunnerTokenSecret', Fn.conditionIf(createSecret.logicalId, this.tokenSecret.ref, Aws.NO_VALUE));

    this.schedule = new ParameterScheduledScaling(this, 'Schedule', {
      autoScalingGroup: this.runnerFleet.autoScalingGroup,
      timeZone: p.timeZone.valueAsString,
      workingDays: p.workingDays.valueAsString,
      workStartHour: p.workStartHour.valueAsString,
      workEndHour: p.workEndHour.valueAsString,
      workingHoursCapacity: workingHours,
      offHoursCapacity: 0,
      jitterMinutes: props.jitterMinutes ?? productJitterMinutes(product.id),
    });

    // Joins the account's runner platform: its safety net and orphan reaper read this entry.
    this.registryEntry = new ssm.CfnParameter(this, 'RegistryEntry', {
      name: fleetRegistryParameterName(fleetName),
      type: 'String',
      description: `GitLab runner fleet ${fleetName}, for the runner platform's safety net and orphan reaper`,
      value: Stack.of(this).toJsonString({
        name: fleetName,
        autoScalingGroupName: this.runnerFleet.autoScalingGroupName,
        tokenSecretName,
        gitlabUrl: p.gitlabUrl.valueAsString,
      }),
    });

    new CfnOutput(this, 'AutoScalingGroupName', { value: this.runnerFleet.autoScalingGroupName, description: 'The fleet group' });
    new CfnOutput(this, 'RunnerTags', {
      value: product.runnerTags.join(','),
      description: 'Put these tags on the jobs that should run on this fleet (tags: in .gitlab-ci.yml)',
    });
    new CfnOutput(this, 'TokenSecretName', {
      value: tokenSecretName,
      description: 'Secrets Manager secret the runners read their token from',
    });

    this.description = `${product.summary} ${productCostText(productCost(product))}`;
    this.templateOptions.description = `${product.name}. ${this.description}`;
  }

  /** Cross-field checks of the form, as template rules (CloudFormation has no numeric comparison: each case is listed). */
  private addFormRules(p: FleetProductParameters, maxInstances: number): void {
    const ref = (param: CfnParameter) => Fn.ref(param.logicalId);
    const upTo = (from: number) => Array.from({ length: maxInstances - from + 1 }, (_v, i) => String(from + i));
    const atMost = (lower: CfnParameter, upper: CfnParameter, message: string) =>
      upTo(1).map((value) => ({
        assert: Fn.conditionOr(
          Fn.conditionNot(Fn.conditionEquals(ref(lower), value)),
          Fn.conditionContains(upTo(Number(value)), ref(upper)),
        ),
        assertDescription: message,
      }));
    new CfnRule(this, 'WorkingHoursWithinMaximum', {
      assertions: atMost(p.workingHoursInstances, p.maxInstances, 'WorkingHoursInstances must not exceed MaxInstances'),
    });
    if (p.onDemandFloor) {
      new CfnRule(this, 'FloorWithinWorkingHours', {
        assertions: atMost(p.onDemandFloor, p.workingHoursInstances, 'OnDemandFloor must not exceed WorkingHoursInstances'),
      });
    }
    new CfnRule(this, 'WorkEndsAfterItStarts', {
      assertions: WORK_START_HOURS.map((start) => ({
        assert: Fn.conditionOr(
          Fn.conditionNot(Fn.conditionEquals(ref(p.workStartHour), hourKey(start))),
          Fn.conditionContains(WORK_END_HOURS.filter((end) => end > start).map(hourKey), ref(p.workEndHour)),
        ),
        assertDescription: 'WorkEndHour must be later than WorkStartHour (same day)',
      })),
    });
    new CfnRule(this, 'TokenOrSecret', {
      assertions: [
        {
          assert: Fn.conditionOr(
            Fn.conditionNot(Fn.conditionEquals(ref(p.runnerToken), '')),
            Fn.conditionNot(Fn.conditionEquals(ref(p.existingTokenSecretName), '')),
          ),
          assertDescription: 'Give the runner token, or the name of an existing secret holding it',
        },
        {
          assert: Fn.conditionOr(Fn.conditionEquals(ref(p.runnerToken), ''), Fn.conditionEquals(ref(p.existingTokenSecretName), '')),
          assertDescription: 'Give either the runner token or an existing secret name, not both',
        },
      ],
    });
    new CfnRule(this, 'SubnetsWithVpc', {
      assertions: [
        {
          assert: Fn.conditionOr(
            Fn.conditionEquals(ref(p.vpcId), ''),
            Fn.conditionNot(Fn.conditionEachMemberEquals(p.subnetIds.valueAsList, '')),
          ),
          assertDescription: 'With a VpcId, list the SubnetIds to run in',
        },
        {
          assert: Fn.conditionOr(
            Fn.conditionNot(Fn.conditionEquals(ref(p.vpcId), '')),
            Fn.conditionEachMemberEquals(p.subnetIds.valueAsList, ''),
          ),
          assertDescription: 'SubnetIds need their VpcId',
        },
      ],
    });
  }
}

/** The console form: groups in the order a person fills them in, with short labels. */
function formInterface(p: FleetProductParameters, machineImageParameters: readonly string[]): Record<string, unknown> {
  const id = (param: CfnParameter | undefined) => (param ? [param.logicalId] : []);
  const labels: Array<[CfnParameter | undefined, string]> = [
    [p.fleetName, 'Fleet name'],
    [p.gitlabUrl, 'GitLab URL'],
    [p.runnerToken, 'Runner token (glrt-...)'],
    [p.existingTokenSecretName, '...or existing token secret name'],
    [p.size, 'Instance size'],
    [p.maxInstances, 'Maximum instances'],
    [p.workingHoursInstances, 'Working-hours instances'],
    [p.onDemandFloor, 'On-demand floor'],
    [p.timeZone, 'Time zone'],
    [p.workingDays, 'Working days'],
    [p.workStartHour, 'Working hours start'],
    [p.workEndHour, 'Working hours end'],
    [p.vpcId, 'VPC (optional)'],
    [p.subnetIds, 'Subnets (optional)'],
    [p.platformVpcId, 'Platform VPC parameter'],
    [p.platformSubnetIds, 'Platform subnets parameter'],
  ];
  return {
    ParameterGroups: [
      {
        Label: { default: 'GitLab' },
        Parameters: [...id(p.fleetName), ...id(p.gitlabUrl), ...id(p.runnerToken), ...id(p.existingTokenSecretName)],
      },
      {
        Label: { default: 'Capacity' },
        Parameters: [...id(p.size), ...id(p.maxInstances), ...id(p.workingHoursInstances), ...id(p.onDemandFloor)],
      },
      {
        Label: { default: 'Working hours' },
        Parameters: [...id(p.timeZone), ...id(p.workingDays), ...id(p.workStartHour), ...id(p.workEndHour)],
      },
      { Label: { default: 'Network (optional)' }, Parameters: [...id(p.vpcId), ...id(p.subnetIds)] },
      {
        Label: { default: 'Runner platform (leave as is)' },
        Parameters: [...id(p.platformVpcId), ...id(p.platformSubnetIds), ...machineImageParameters],
      },
    ],
    ParameterLabels: Object.fromEntries([
      ...labels.flatMap(([param, label]) => (param ? [[param.logicalId, { default: label }]] : [])),
      ...machineImageParameters.map((logicalId) => [logicalId, { default: 'Amazon Linux 2023 AMI (SSM public parameter)' }]),
    ]),
  };
}
