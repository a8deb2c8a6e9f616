/**
 * The IAM role of a fleet's instances: only what the runner and its drain agent need.
 */
import { BUSY_TAGS } from '../identity/demand-metrics';
import { FLEET_METRIC_NAMESPACE } from '../identity/fleet-metrics';
import { FLEET_TAGS } from '../identity/runner-identity';
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface RunnerInstanceRoleProps {
  /** Fleet name, for the role description. */
  readonly fleetName: string;
  /** The fleet's Auto Scaling group name; lifecycle calls are allowed only on this group. */
  readonly autoScalingGroupName: string;
  /** The secret holding the fleet's glrt- runner authentication token. */
  readonly runnerTokenSecret: secretsmanager.ISecret;
  /**
   * Mixed fleets with a second runner: the on-demand instances' token secret.
   * @default - none; every instance reads runnerTokenSecret
   */
  readonly onDemandRunnerTokenSecret?: secretsmanager.ISecret;
}

/**
 * Session Manager's instance-side actions: the agent registers (UpdateInstanceInformation) and
 * opens the control and data channels of a session. Nothing else of AmazonSSMManagedInstanceCore:
 * no ssm:GetParameter(s) on every parameter of the account, no Run Command (ec2messages), which
 * this project does not use.
 */
export const SESSION_MANAGER_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
] as const;

/**
 * Instance role, inline statements only (no managed policy): Session Manager (no SSH, no key
 * pair), read of the fleet's own token secret, and lifecycle calls on the fleet's own group.
 */
export class RunnerInstanceRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RunnerInstanceRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `GitLab runner instances of fleet ${props.fleetName}`,
    });
    // These actions name no resource ("*" is the only choice); the condition keeps the role's
    // credentials working for them only from an EC2 instance of this account and region, not
    // from wherever a copy of the credentials ends up.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SessionManager',
        actions: [...SESSION_MANAGER_ACTIONS],
        resources: ['*'],
        conditions: {
          ArnLike: { 'ec2:SourceInstanceARN': stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }) },
        },
      }),
    );

    // A name-based ARN has no random suffix; Secrets Manager appends "-" and 6 characters.
    const secrets = [props.runnerTokenSecret, ...(props.onDemandRunnerTokenSecret ? [props.onDemandRunnerTokenSecret] : [])];
    const secretResources = secrets.map((secret) => secret.secretFullArn ?? `${secret.secretArn}-??????`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadOwnRunnerToken', actions: ['secretsmanager:GetSecretValue'], resources: secretResources }),
    );
    for (const secret of secrets) secret.encryptionKey?.grantDecrypt(this.role);

    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${props.autoScalingGroupName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // No condition key names the instance for these actions (the instance id is a request
    // parameter, not a key), so an instance could complete a sibling's action in its own group:
    // the group is the narrowest scope IAM offers.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLifecycleActions',
        actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        resources: [groupArn],
      }),
    );

    // Demand scaling: the busy reporter keeps two tags on its instance so the scaler can tell
    // idle instances from busy ones. Only those two keys, only on this fleet's instances: the
    // worst a forged value does is mark an instance idle, and a removed instance still drains
    // its jobs through the terminate hook.
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagSelfWithBusySlots',
        actions: ['ec2:CreateTags'],
        resources: [instances],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${FLEET_TAGS.fleet}`]: props.fleetName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [BUSY_TAGS.busySlots, BUSY_TAGS.idleSince] },
        },
      }),
    );

    // The drain agent counts spot notices, rebalance recommendations and jobs failed by a reclaim.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PutFleetMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': FLEET_METRIC_NAMESPACE } },
      }),
    );

    // Each acknowledgement names the one finding it covers, on this role only.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the Session Manager actions (ssm:UpdateInstanceInformation and the four ssmmessages channel actions), which name ' +
        'no resource: they register the agent and open sessions, read no parameter, secret or other data, and are conditioned ' +
        'on ec2:SourceInstanceARN being an instance of this account and region; and cloudwatch:PutMetricData, which supports no ' +
        `resource-level permissions and is conditioned on the ${FLEET_METRIC_NAMESPACE} namespace.`,
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceText(stack, groupArn)}]`,
      reason:
        'The wildcard is the group id segment of the ARN of the fleet own, deterministically named group; lifecycle calls reach no other group.',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceText(stack, instances)}]`,
      reason:
        'Instance ids are not known before launch; conditions limit CreateTags to instances tagged with this fleet and to the two busy-reporter keys.',
    });
  }
}

/**
 * An ARN as cdk-nag spells it in a finding id (its flattenCfnReference, which it does not export):
 * literal parts kept, `{ Ref: X }` written `<X>`, `Fn::GetAtt` written `<X.Attr>`, an import by its
 * export name, so acknowledgements match in environment-agnostic and environment-specific stacks alike.
 */
export function nagResourceText(stack: Stack, arn: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const intrinsic = node as Record<string, unknown>;
    if (intrinsic['Fn::Join']) {
      const [delimiter, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map(visit).join(delimiter);
    }
    if (intrinsic['Fn::Sub']) return visit(intrinsic['Fn::Sub']);
    if (intrinsic['Fn::GetAtt']) {
      const [resource, attribute] = intrinsic['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (intrinsic['Fn::ImportValue']) return visit(intrinsic['Fn::ImportValue']);
    if (intrinsic.Ref) return `<${visit(intrinsic.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(stack.resolve(arn));
}
