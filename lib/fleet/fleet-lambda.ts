/**
 * A fleet Lambda function as the safety net and the orphan reaper both need it: the esbuild
 * bundle (built once per process) plus its configuration file as the asset, arm64, a log group
 * with retention, and a role of its own that starts with nothing but writing to that log group.
 */
import { Duration, Stack, Token, Validations, ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_HANDLER, handlerAssetDir, type LambdaHandlerName } from '../lambda/bundle';
import { CA_BUNDLE_FILE, HANDLER_CONFIG_FILE, type HandlerConfig } from '../lambda/shared/handler-config';
import { defaultRunnerTokenSecretName } from '../config/fleet-config';
import { autoScalingGroupName, FLEET_TAGS } from '../identity/runner-identity';

/**
 * Up to this many fleets, policies list each group and secret ARN. Beyond, patterns keep the
 * role's policy under IAM's 10,240-character limit for inline policies.
 */
export const MAX_LISTED_RESOURCES = 30;

/** Matches every fleet's default token secret name (see defaultRunnerTokenSecretName). */
const DEFAULT_TOKEN_SECRET_PATTERN = defaultRunnerTokenSecretName('*');

/** Replaces default-named token secrets by one pattern; custom names stay listed. */
function collapseDefaultTokenSecrets(names: readonly string[]): string[] {
  const isDefault = (name: string) =>
    /^gitlab-runner-fleet\/[a-z][a-z0-9-]*\/runner-token$/.test(name) && name === defaultRunnerTokenSecretName(name.split('/')[1]);
  const custom = names.filter((n) => !isDefault(n));
  return custom.length === names.length ? custom : [DEFAULT_TOKEN_SECRET_PATTERN, ...custom];
}

/**
 * Why the CA's environment variable needs no customer managed key (checkov CKV_AWS_173): it is
 * the only variable, and it holds a file path inside the deployment package, not the CA and not
 * a secret. Lambda already encrypts environment variables at rest with an AWS managed key; a CMK
 * would add a key policy and a monthly cost and protect nothing confidential.
 */
export const CA_ENVIRONMENT_SKIP_REASON =
  'NODE_EXTRA_CA_CERTS, the only environment variable, is a file path inside the package (/var/task/gitlab-ca.pem), ' +
  'not a secret; Lambda encrypts it at rest with an AWS managed key, and a customer managed key would protect nothing confidential.';

/** The Node.js runtime of the fleet Lambdas: the newest the CDK knows (cdk-nag AwsSolutions-L1). */
export const FLEET_LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface FleetLambdaFunctionProps {
  readonly handler: LambdaHandlerName;
  readonly description: string;
  /** Written beside the bundle as handler-config.json. */
  readonly config: HandlerConfig;
  /** PEM bundle of a private CA the GitLab certificate chains to. */
  readonly caCertificate?: string;
  readonly timeout: Duration;
  /**
   * Concurrent executions reserved (and capped) for the function.
   * @default - none reserved
   */
  readonly reservedConcurrentExecutions?: number;
  readonly logRetention: logs.RetentionDays;
  /**
   * Memory of the function, in MiB.
   * @default 256
   */
  readonly memorySize?: number;
}

export class FleetLambdaFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FleetLambdaFunctionProps) {
    super(scope, id);
    if (
      props.reservedConcurrentExecutions !== undefined &&
      !Token.isUnresolved(props.reservedConcurrentExecutions) &&
      (!Number.isInteger(props.reservedConcurrentExecutions) || props.reservedConcurrentExecutions < 1)
    ) {
      throw new Error(`reservedConcurrentExecutions (${props.reservedConcurrentExecutions}) must be a whole number >= 1`);
    }
    const files: Record<string, string> = { [HANDLER_CONFIG_FILE]: `${JSON.stringify(props.config, null, 1)}\n` };
    const environment: Record<string, string> = {};
    if (props.caCertificate) {
      files[CA_BUNDLE_FILE] = props.caCertificate;
      // Read by Node at start-up; /var/task is where Lambda unpacks the asset.
      environment.NODE_EXTRA_CA_CERTS = `/var/task/${CA_BUNDLE_FILE}`;
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: props.description });
    this.logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: FLEET_LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: BUNDLE_HANDLER,
      code: lambda.Code.fromAsset(handlerAssetDir(props.handler, files)),
      timeout: props.timeout,
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment,
    });
    if (props.caCertificate) {
      // checkov reads skips from resource metadata; this one concerns this function only.
      (this.function.node.defaultChild as lambda.CfnFunction).addMetadata('checkov', {
        skip: [{ id: 'CKV_AWS_173', comment: CA_ENVIRONMENT_SKIP_REASON }],
      });
    }
  }

  /**
   * Allows reading the named secrets (name-based ARNs: Secrets Manager appends `-` and 6 characters).
   * Past {@link MAX_LISTED_RESOURCES} names, the fleets' default-named token secrets are covered by
   * one pattern, so the role's policy stays within IAM's size limits.
   */
  public grantReadSecrets(sid: string, secretNames: readonly string[], why: string): void {
    const names = [...new Set(secretNames)];
    const patterns = names.length > MAX_LISTED_RESOURCES ? collapseDefaultTokenSecrets(names) : names;
    const stack = Stack.of(this);
    const arns = patterns.map((name) =>
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${name}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: arns }));
    for (const name of patterns) {
      const reason =
        name === DEFAULT_TOKEN_SECRET_PATTERN
          ? `${why} Over ${MAX_LISTED_RESOURCES} fleets, one pattern covers the default-named runner token secrets.`
          : why;
      this.acknowledge(
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${this.regionAccount()}:secret:${name}-??????]`,
        reason,
      );
    }
  }

  /** Allows calls that AWS only authorizes on `*` (Describe*), acknowledged with the reason. */
  public grantDescribe(sid: string, actions: readonly string[], why: string): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: ['*'] }));
    this.acknowledge('AwsSolutions-IAM5[Resource::*]', why);
  }

  /**
   * Allows `actions` on the fleets' Auto Scaling groups only: by ARN, or past
   * {@link MAX_LISTED_RESOURCES} fleets (IAM policy size) on the groups named like fleet groups
   * that carry the fleet tag of one of the fleets.
   */
  public grantOnFleetGroups(sid: string, actions: readonly string[], fleetNames: readonly string[]): void {
    const stack = Stack.of(this);
    const groupArn = (group: string) =>
      stack.formatArn({
        service: 'autoscaling',
        resource: 'autoScalingGroup',
        resourceName: `*:autoScalingGroupName/${group}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const findingFor = (group: string) =>
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${this.regionAccount()}:autoScalingGroup:*:autoScalingGroupName/${group}]`;
    if (fleetNames.length <= MAX_LISTED_RESOURCES) {
      const groups = fleetNames.map(autoScalingGroupName);
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: groups.map(groupArn) }));
      for (const group of groups) {
        this.acknowledge(
          findingFor(group),
          'The wildcard is the group id segment of the ARN of a fleet group named deterministically; no other group is reachable.',
        );
      }
      return;
    }
    const pattern = autoScalingGroupName('*');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions: [...actions],
        resources: [groupArn(pattern)],
        conditions: { StringEquals: { [`autoscaling:ResourceTag/${FLEET_TAGS.fleet}`]: [...fleetNames] } },
      }),
    );
    this.acknowledge(
      findingFor(pattern),
      `Over ${MAX_LISTED_RESOURCES} fleets the group ARNs exceed IAM policy size limits; the pattern matches fleet group names only and the condition limits it to groups tagged with one of these fleets.`,
    );
  }

  /** Region and account as cdk-nag spells them in a finding: the values, or placeholders in an environment-agnostic stack. */
  private regionAccount(): string {
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    return `${region}:${account}`;
  }

  /** Acknowledges one cdk-nag finding on this function's role (and its policies) only. */
  public acknowledge(id: string, reason: string): void {
    Validations.of(this.role).acknowledge({ id, reason });
  }
}
