/**
 * The launch constraint roles of the runner catalog: Service Catalog deploys a product's stack
 * with one of them, so end users need nothing beyond `servicecatalog:*Provision*`. Each role may
 * do only what its products' stacks do, on resources named like the fleet's (group, secret, SSM
 * and IAM paths); the roles it creates live under {@link CATALOG_IAM_PATH} and must carry the
 * permissions boundary the platform product installs.
 *
 * The same construct builds them in the catalog account and, as the
 * gitlab-runner-fleet-catalog-launch-roles stack, in every account the portfolio is shared
 * with (a local launch role is looked up by name in the launching account).
 */
import { ArnFormat, Aws, Stack, Validations, type CfnResource, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { nagResourceText } from '../fleet/fleet-role';
import { skipCheckov } from './checkov-skip';
import { FLEET_GROUP_NAME_PREFIX, FLEET_REGISTRY_PATH, REGISTERED_TOKEN_SECRET_PREFIX } from '../identity/fleet-registry';

/** IAM path of every role, instance profile and policy the catalog products create. */
export const CATALOG_IAM_PATH = '/gitlab-runner-fleet/';
/** Managed policy (created by the platform product) that bounds every role the products create. */
export const PERMISSIONS_BOUNDARY_NAME = 'gitlab-runner-fleet-boundary';
export const FLEET_LAUNCH_ROLE_NAME = 'gitlab-runner-fleet-launch';
export const PLATFORM_LAUNCH_ROLE_NAME = 'gitlab-runner-fleet-platform-launch';

/** ARN of the permissions boundary in the stack's account. */
export function permissionsBoundaryArn(stack: Stack): string {
  return stack.formatArn({
    service: 'iam',
    region: '',
    resource: 'policy',
    resourceName: `${CATALOG_IAM_PATH.slice(1)}${PERMISSIONS_BOUNDARY_NAME}`,
  });
}

/**
 * What any product role may ever do: the union of the instance role (Session Manager, own token,
 * own lifecycle actions, self-tagging), the safety net and reaper roles, and the VPC flow log role.
 * Secrets: the catalog fleets' token secrets (their own prefix), plus `readableSecretNames` by
 * name (the orphan reaper's API token).
 */
export function fleetBoundaryPolicyStatements(stack: Stack, readableSecretNames: readonly string[] = []): iam.PolicyStatement[] {
  const arn = (service: string, resource: string, resourceName: string, arnFormat = ArnFormat.SLASH_RESOURCE_NAME) =>
    stack.formatArn({ service, resource, resourceName, arnFormat });
  return [
    new iam.PolicyStatement({
      sid: 'SessionManagerAndTelemetry',
      actions: [
        'ssm:UpdateInstanceInformation',
        'ssm:ListInstanceAssociations',
        'ssm:DescribeInstanceProperties',
        'ssm:GetDocument',
        'ssm:DescribeDocument',
        'ssm:PutInventory',
        'ssm:PutComplianceItems',
        'ssm:UpdateAssociationStatus',
        'ssm:UpdateInstanceAssociationStatus',
        'ssm:ListAssociations',
        'ssm:DescribeAssociation',
        'ssm:GetManifest',
        'ssm:PutConfigurePackageResult',
        'ssm:GetDeployablePatchSnapshotForInstance',
        'ssmmessages:*',
        'ec2messages:*',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'FleetTokens',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [
        arn('secretsmanager', 'secret', `${REGISTERED_TOKEN_SECRET_PREFIX}*`, ArnFormat.COLON_RESOURCE_NAME),
        // Name-based ARNs: Secrets Manager appends "-" and six random characters.
        ...[...new Set(readableSecretNames)].map((name) =>
          arn('secretsmanager', 'secret', `${name}-??????`, ArnFormat.COLON_RESOURCE_NAME),
        ),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'FleetGroups',
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      resources: [
        arn('autoscaling', 'autoScalingGroup', `*:autoScalingGroupName/${FLEET_GROUP_NAME_PREFIX}*`, ArnFormat.COLON_RESOURCE_NAME),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'ReadOnlyDescribes',
      actions: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances', 'ec2:CreateTags'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'Registry',
      actions: ['ssm:GetParametersByPath'],
      resources: [arn('ssm', 'parameter', FLEET_REGISTRY_PATH.replace(/^\/|\/$/g, ''))],
    }),
    new iam.PolicyStatement({
      // The VPC's restrict-default-security-group custom resource (aws-cdk-lib) empties the default group.
      sid: 'DefaultSecurityGroup',
      actions: ['ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
      resources: [arn('ec2', 'security-group', '*')],
    }),
    new iam.PolicyStatement({
      sid: 'LogsAndQueues',
      actions: [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:DescribeLogStreams',
        'logs:DescribeLogGroups',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ChangeMessageVisibility',
      ],
      resources: ['*'],
    }),
  ];
}

/** Acknowledges the cdk-nag AwsSolutions-IAM5 finding of each wildcard resource and action of `statements` on `scope`, with one reason. */
export function acknowledgeWildcards(scope: IConstruct, statements: readonly iam.PolicyStatement[], reason: string): void {
  const stack = Stack.of(scope);
  const ids = new Set<string>();
  for (const statement of statements) {
    if (statement.effect === iam.Effect.DENY) continue;
    for (const action of statement.actions) if (action.includes('*')) ids.add(`AwsSolutions-IAM5[Action::${action}]`);
    for (const resource of statement.resources) {
      const text = nagResourceText(stack, resource);
      if (text.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${text}]`);
    }
  }
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

/** Puts every role and instance profile of a product stack under the catalog path and the permissions boundary. */
export class ProductRolesUnderBoundary implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof iam.CfnRole) {
      node.path = CATALOG_IAM_PATH;
      node.permissionsBoundary = permissionsBoundaryArn(Stack.of(node));
    } else if (node instanceof iam.CfnInstanceProfile) {
      node.path = CATALOG_IAM_PATH;
    }
  }
}

export interface CatalogLaunchRolesProps {
  /**
   * The bucket holding the product stacks' assets (Lambda code), read when a product launches.
   * @default - none (a stack in a member account reads the catalog account's bucket through its policy)
   */
  readonly assetBucket?: s3.IBucket;
  /** Name of the asset bucket, when the bucket is in another account. */
  readonly assetBucketName?: string;
}

/** The two launch roles: fleet products, and the runner platform product (which may also build a VPC, Lambdas, queues). */
export class CatalogLaunchRoles extends Construct {
  public readonly fleetLaunchRole: iam.Role;
  public readonly platformLaunchRole: iam.Role;

  constructor(scope: Construct, id: string, props: CatalogLaunchRolesProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const account = Aws.ACCOUNT_ID;
    const a = (service: string, resource: string, resourceName: string, format = ArnFormat.SLASH_RESOURCE_NAME, region?: string) =>
      stack.formatArn({ service, resource, resourceName, arnFormat: format, region });
    const assetBucketName = props.assetBucket?.bucketName ?? props.assetBucketName;

    const common = (): iam.PolicyStatement[] => [
      new iam.PolicyStatement({
        sid: 'ProductStacks',
        actions: [
          'cloudformation:CreateStack',
          'cloudformation:UpdateStack',
          'cloudformation:DeleteStack',
          'cloudformation:DescribeStacks',
          'cloudformation:DescribeStackEvents',
          'cloudformation:SetStackPolicy',
          'cloudformation:CreateChangeSet',
          'cloudformation:DescribeChangeSet',
          'cloudformation:ExecuteChangeSet',
          'cloudformation:DeleteChangeSet',
          'cloudformation:ListStackResources',
          'cloudformation:GetTemplate',
          'cloudformation:TagResource',
          'cloudformation:UntagResource',
        ],
        // Service Catalog names the stacks of provisioned products SC-<account>-pp-<id>.
        resources: [a('cloudformation', 'stack', 'SC-*')],
      }),
      new iam.PolicyStatement({
        sid: 'TemplateChecks',
        actions: ['cloudformation:GetTemplateSummary', 'cloudformation:ValidateTemplate'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ProductTemplates',
        actions: ['s3:GetObject'],
        resources: ['*'],
        // Only the templates Service Catalog itself stores for provisioning.
        conditions: { StringEquals: { 's3:ExistingObjectTag/servicecatalog:provisioning': 'true' } },
      }),
      ...(assetBucketName
        ? [
            new iam.PolicyStatement({
              sid: 'ProductAssets',
              actions: ['s3:GetObject'],
              resources: [`arn:${Aws.PARTITION}:s3:::${assetBucketName}/*`],
            }),
          ]
        : []),
      new iam.PolicyStatement({
        sid: 'Describes',
        actions: [
          'autoscaling:Describe*',
          'ec2:Describe*',
          'ssm:DescribeParameters',
          'iam:GetRole',
          'iam:GetInstanceProfile',
          'iam:GetPolicy',
          'iam:GetRolePolicy',
          'iam:ListRolePolicies',
          'iam:ListAttachedRolePolicies',
          'iam:ListPolicyVersions',
          'secretsmanager:DescribeSecret',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'FleetRolesWithBoundary',
        actions: [
          'iam:CreateRole',
          'iam:PutRolePolicy',
          'iam:AttachRolePolicy',
          'iam:DetachRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:PutRolePermissionsBoundary',
        ],
        resources: [`arn:${Aws.PARTITION}:iam::${account}:role${CATALOG_IAM_PATH}*`],
        conditions: { StringEquals: { 'iam:PermissionsBoundary': permissionsBoundaryArn(stack) } },
      }),
      new iam.PolicyStatement({
        sid: 'FleetRoles',
        actions: [
          'iam:DeleteRole',
          'iam:TagRole',
          'iam:UntagRole',
          'iam:UpdateRoleDescription',
          'iam:CreateInstanceProfile',
          'iam:DeleteInstanceProfile',
          'iam:AddRoleToInstanceProfile',
          'iam:RemoveRoleFromInstanceProfile',
          'iam:TagInstanceProfile',
        ],
        resources: [
          `arn:${Aws.PARTITION}:iam::${account}:role${CATALOG_IAM_PATH}*`,
          `arn:${Aws.PARTITION}:iam::${account}:instance-profile${CATALOG_IAM_PATH}*`,
        ],
      }),
      new iam.PolicyStatement({
        sid: 'PassFleetRoles',
        actions: ['iam:PassRole'],
        resources: [`arn:${Aws.PARTITION}:iam::${account}:role${CATALOG_IAM_PATH}*`],
        conditions: {
          StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'lambda.amazonaws.com', 'vpc-flow-logs.amazonaws.com'] },
        },
      }),
      new iam.PolicyStatement({
        // A fresh account gets the Auto Scaling (and spot) service-linked roles with its first group.
        sid: 'ServiceLinkedRoles',
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [`arn:${Aws.PARTITION}:iam::${account}:role/aws-service-role/*`],
        conditions: { StringEquals: { 'iam:AWSServiceName': ['autoscaling.amazonaws.com', 'spot.amazonaws.com'] } },
      }),
      new iam.PolicyStatement({
        sid: 'KeepTheBoundary',
        effect: iam.Effect.DENY,
        actions: ['iam:DeleteRolePermissionsBoundary'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ReadParameters',
        actions: ['ssm:GetParameter', 'ssm:GetParameters'],
        resources: [
          a('ssm', 'parameter', 'aws/service/ami-amazon-linux-latest/*', ArnFormat.SLASH_RESOURCE_NAME, '*'),
          a('ssm', 'parameter', 'gitlab-runner-fleet/*'),
        ],
      }),
    ];

    this.fleetLaunchRole = new iam.Role(this, 'FleetLaunchRole', {
      roleName: FLEET_LAUNCH_ROLE_NAME,
      assumedBy: new iam.ServicePrincipal('servicecatalog.amazonaws.com'),
      description: 'Service Catalog launch constraint of the GitLab runner fleet products',
    });
    const fleetStatements = [
      ...common(),
      new iam.PolicyStatement({
        sid: 'FleetGroups',
        actions: [
          'autoscaling:CreateAutoScalingGroup',
          'autoscaling:UpdateAutoScalingGroup',
          'autoscaling:DeleteAutoScalingGroup',
          'autoscaling:PutScheduledUpdateGroupAction',
          'autoscaling:DeleteScheduledAction',
          'autoscaling:PutLifecycleHook',
          'autoscaling:DeleteLifecycleHook',
          'autoscaling:CreateOrUpdateTags',
          'autoscaling:DeleteTags',
          'autoscaling:EnableMetricsCollection',
          'autoscaling:DisableMetricsCollection',
          'autoscaling:SuspendProcesses',
          'autoscaling:ResumeProcesses',
          'autoscaling:TerminateInstanceInAutoScalingGroup',
          'autoscaling:SetDesiredCapacity',
        ],
        resources: [
          a('autoscaling', 'autoScalingGroup', `*:autoScalingGroupName/${FLEET_GROUP_NAME_PREFIX}*`, ArnFormat.COLON_RESOURCE_NAME),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'LaunchTemplatesAndSecurityGroups',
        actions: [
          'ec2:CreateLaunchTemplate',
          'ec2:CreateLaunchTemplateVersion',
          'ec2:ModifyLaunchTemplate',
          'ec2:DeleteLaunchTemplate',
          'ec2:DeleteLaunchTemplateVersions',
          'ec2:RunInstances',
          'ec2:CreateTags',
          'ec2:CreateSecurityGroup',
          'ec2:DeleteSecurityGroup',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        resources: [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${account}:*`, `arn:${Aws.PARTITION}:ec2:${Aws.REGION}::image/*`],
      }),
      new iam.PolicyStatement({
        sid: 'OwnTokenSecret',
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecret',
          'secretsmanager:TagResource',
          'secretsmanager:UntagResource',
        ],
        resources: [a('secretsmanager', 'secret', `${REGISTERED_TOKEN_SECRET_PREFIX}*`, ArnFormat.COLON_RESOURCE_NAME)],
      }),
      new iam.PolicyStatement({
        sid: 'FleetRegistry',
        actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
        resources: [a('ssm', 'parameter', `${FLEET_REGISTRY_PATH.slice(1)}*`)],
      }),
    ];
    for (const statement of fleetStatements) this.fleetLaunchRole.addToPrincipalPolicy(statement);

    this.platformLaunchRole = new iam.Role(this, 'PlatformLaunchRole', {
      roleName: PLATFORM_LAUNCH_ROLE_NAME,
      assumedBy: new iam.ServicePrincipal('servicecatalog.amazonaws.com'),
      description: 'Service Catalog launch constraint of the GitLab runner platform product',
    });
    const platformStatements = [
      ...common(),
      new iam.PolicyStatement({
        sid: 'Boundary',
        actions: ['iam:CreatePolicy', 'iam:DeletePolicy', 'iam:TagPolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion'],
        resources: [`arn:${Aws.PARTITION}:iam::${account}:policy${CATALOG_IAM_PATH}*`],
      }),
      new iam.PolicyStatement({
        sid: 'Network',
        actions: [
          'ec2:CreateVpc',
          'ec2:DeleteVpc',
          'ec2:ModifyVpcAttribute',
          'ec2:CreateSubnet',
          'ec2:DeleteSubnet',
          'ec2:ModifySubnetAttribute',
          'ec2:CreateInternetGateway',
          'ec2:DeleteInternetGateway',
          'ec2:AttachInternetGateway',
          'ec2:DetachInternetGateway',
          'ec2:CreateRouteTable',
          'ec2:DeleteRouteTable',
          'ec2:CreateRoute',
          'ec2:DeleteRoute',
          'ec2:AssociateRouteTable',
          'ec2:DisassociateRouteTable',
          'ec2:CreateFlowLogs',
          'ec2:DeleteFlowLogs',
          'ec2:CreateTags',
          'ec2:DeleteTags',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
          'ec2:AuthorizeSecurityGroupEgress',
        ],
        resources: [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${account}:*`],
      }),
      new iam.PolicyStatement({
        sid: 'SafetyNetAndReaper',
        actions: [
          'lambda:CreateFunction',
          'lambda:DeleteFunction',
          'lambda:GetFunction',
          'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration',
          'lambda:TagResource',
          'lambda:UntagResource',
          'lambda:AddPermission',
          'lambda:RemovePermission',
          'lambda:PutFunctionEventInvokeConfig',
          'lambda:UpdateFunctionEventInvokeConfig',
          'lambda:DeleteFunctionEventInvokeConfig',
          'lambda:GetFunctionConfiguration',
          'sqs:CreateQueue',
          'sqs:DeleteQueue',
          'sqs:GetQueueAttributes',
          'sqs:SetQueueAttributes',
          'sqs:TagQueue',
          'sqs:AddPermission',
          'events:PutRule',
          'events:DeleteRule',
          'events:DescribeRule',
          'events:PutTargets',
          'events:RemoveTargets',
          'events:EnableRule',
          'events:DisableRule',
          'events:TagResource',
          'logs:CreateLogGroup',
          'logs:DeleteLogGroup',
          'logs:PutRetentionPolicy',
          'logs:DeleteRetentionPolicy',
          'logs:TagResource',
          'logs:TagLogGroup',
          'cloudwatch:PutMetricAlarm',
          'cloudwatch:DeleteAlarms',
          'cloudwatch:TagResource',
        ],
        resources: [`arn:${Aws.PARTITION}:*:${Aws.REGION}:${account}:*`],
      }),
      new iam.PolicyStatement({
        sid: 'EventSourceMappings',
        actions: [
          'lambda:CreateEventSourceMapping',
          'lambda:DeleteEventSourceMapping',
          'lambda:GetEventSourceMapping',
          'lambda:UpdateEventSourceMapping',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'PlatformParameters',
        actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
        resources: [a('ssm', 'parameter', 'gitlab-runner-fleet/platform/*')],
      }),
    ];
    for (const statement of platformStatements) this.platformLaunchRole.addToPrincipalPolicy(statement);

    const reason =
      'A launch constraint role deploys whole stacks whose resource names are generated at launch. Wildcards are limited to resources named like the fleets (gitlab-runner-fleet-* groups, gitlab-runner-fleet/ secrets, SSM and IAM paths), to Describe/Get calls, and to this account and region; roles it creates must carry the permissions boundary.';
    acknowledgeWildcards(this.fleetLaunchRole, fleetStatements, reason);
    acknowledgeWildcards(this.platformLaunchRole, platformStatements, reason);
    for (const role of [this.fleetLaunchRole, this.platformLaunchRole]) {
      const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild as CfnResource | undefined;
      if (policy) {
        skipCheckov(
          policy,
          'CKV_AWS_111',
          'A launch constraint role writes the resources of the stacks it deploys; writes are limited to fleet-named resources, this account and region, and roles under the permissions boundary.',
        );
      }
    }
  }
}
