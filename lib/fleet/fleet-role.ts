/**
 * The IAM role of a fleet's instances: only what the runner and its drain agent need.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FLEET_TAGS } from '../identity/runner-identity';

export interface RunnerInstanceRoleProps {
  /** Fleet name; CreateTags is allowed only on instances tagged with it. */
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
 * Instance role: SSM Session Manager (no SSH, no key pair), read of the fleet's own token
 * secret, lifecycle calls on the fleet's own group, and tagging itself with its runner name
 * and system id.
 */
export class RunnerInstanceRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RunnerInstanceRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `GitLab runner instances of fleet ${props.fleetName}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });

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
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLifecycleActions',
        actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        resources: [groupArn],
      }),
    );

    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagSelfWithRunnerIdentity',
        actions: ['ec2:CreateTags'],
        resources: [instances],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${FLEET_TAGS.fleet}`]: props.fleetName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [FLEET_TAGS.runnerName, FLEET_TAGS.systemId] },
        },
      }),
    );

    // Each acknowledgement names the one finding it covers, on this role only.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason:
        'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH, key pairs and inbound rules.',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceText(stack, groupArn)}]`,
      reason:
        'The wildcard is the group id segment of the ARN of the fleet own, deterministically named group; lifecycle calls reach no other group.',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceText(stack, instances)}]`,
      reason:
        'Instance ids are not known before launch; conditions limit CreateTags to instances tagged with this fleet and to the runner-name and system-id keys.',
    });
  }
}

/**
 * An ARN as cdk-nag spells it in a finding id (its flattenCfnReference, which it does not export):
 * literal parts kept, `{ Ref: X }` written `<X>`, `Fn::GetAtt` written `<X.Attr>`, an import by its
 * export name, so acknowledgements match in environment-agnostic and environment-specific stacks alike.
 */
function nagResourceText(stack: Stack, arn: string): string {
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
