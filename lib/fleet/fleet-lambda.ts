/**
 * A fleet Lambda function as the safety net and the orphan reaper both need it: the esbuild
 * bundle (built once per source change) plus its configuration file as the asset, arm64, a log group
 * with retention, and a role of its own that starts with nothing but writing to that log group.
 */
import { Duration, Stack, Token, Validations, ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_HANDLER, handlerAssetDir, type LambdaHandlerName } from '../lambda/bundle';
import { CA_BUNDLE_FILE, HANDLER_CONFIG_FILE, type HandlerConfig } from '../lambda/shared/handler-config';
import type { FleetSpec } from '../config/fleet-config';
import {
  autoScalingGroupNamePrefix,
  deploymentTokenSecretPattern,
  MAX_UNSCOPED_FLEETS,
  runnerTokenSecretPrefix,
} from '../identity/deployment';
import { autoScalingGroupName } from '../identity/runner-identity';

/**
 * Most fleets whose groups are listed one by one in a policy: configs without a deployment
 * name. Named deployments are matched by prefix at any count (lib/identity/deployment.ts).
 */
export const MAX_LISTED_RESOURCES = MAX_UNSCOPED_FLEETS;

/**
 * Most secrets listed by name in one grant (custom names; default names of a named deployment
 * are one pattern). A deployed name-based secret ARN is about 120 characters, so 40 stay far
 * below IAM's 10,240 characters for a role's inline policies, beside the other statements.
 */
export const MAX_LISTED_SECRETS = 40;

/** The deployment name the fleets share (undefined for none); throws when they differ. */
export function deploymentOfFleets(fleets: readonly Pick<FleetSpec, 'name' | 'deployment'>[]): string | undefined {
  const names = [...new Set(fleets.map((f) => f.deployment))];
  if (names.length > 1)
    throw new Error(
      `fleets belong to different deployments (${names.map((n) => n ?? '(none)').join(', ')}); one shared stack serves one deployment`,
    );
  return names[0];
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
  /**
   * The function's name, for a function other stacks reach by name.
   * @default - a name CloudFormation generates
   */
  readonly functionName?: string;
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
      functionName: props.functionName,
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
   * In a named deployment, its fleets' default-named token secrets are one pattern under the
   * deployment's prefix (at any fleet count, and only this deployment's); other names are listed.
   */
  public grantReadSecrets(sid: string, secretNames: readonly string[], why: string, deployment?: string): void {
    const names = [...new Set(secretNames)];
    const patternOf = (name: string) => (deployment === undefined ? undefined : deploymentTokenSecretPattern(name, deployment));
    const listed = names.filter((name) => patternOf(name) === undefined);
    if (listed.length > MAX_LISTED_SECRETS) {
      throw new Error(
        `${sid}: ${listed.length} secrets are listed by name, more than ${MAX_LISTED_SECRETS} (IAM policy size): ` +
          (deployment === undefined
            ? 'give the config a deployment name so default-named token secrets are matched by prefix'
            : `use the default runnerTokenSecretName (${runnerTokenSecretPrefix(deployment)}<fleet>/runner-token) for most fleets`),
      );
    }
    // One pattern per kind of default name in use (first runner, mixed fleets' on-demand runner), sorted for a stable template.
    const scopedPatterns = [...new Set(names.map(patternOf).filter((p): p is string => p !== undefined))].sort();
    const patterns = [...scopedPatterns, ...listed];
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
      const reason = scopedPatterns.includes(name)
        ? `${why} The fleets' default-named runner token secrets are one pattern per runner kind under this deployment's own prefix (${runnerTokenSecretPrefix(deployment ?? '')}), which no other deployment's names can start with.`
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
   * Allows `actions` on the fleets' Auto Scaling groups only: in a named deployment on every group
   * with its prefix (constant size at any fleet count), otherwise by ARN, at most
   * {@link MAX_LISTED_RESOURCES} of them (IAM policy size).
   */
  public grantOnFleetGroups(sid: string, actions: readonly string[], fleetNames: readonly string[], deployment?: string): void {
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
    if (deployment !== undefined) {
      const pattern = `${autoScalingGroupNamePrefix(deployment)}*`;
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: [groupArn(pattern)] }));
      this.acknowledge(
        findingFor(pattern),
        "The pattern is this deployment's own group name prefix, which no other deployment's group names can start with; the first wildcard is the group id segment of the ARN.",
      );
      return;
    }
    if (fleetNames.length > MAX_LISTED_RESOURCES) {
      throw new Error(
        `${sid}: ${fleetNames.length} fleets without a deployment name; above ${MAX_LISTED_RESOURCES} their groups no longer fit one IAM policy: give the fleets a deployment name (config key deployment)`,
      );
    }
    const groups = fleetNames.map((name) => autoScalingGroupName(name));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: groups.map(groupArn) }));
    for (const group of groups) {
      this.acknowledge(
        findingFor(group),
        'The wildcard is the group id segment of the ARN of a fleet group named deterministically; no other group is reachable.',
      );
    }
  }

  /**
   * Allows `actions` on every group named like a fleet group (`gitlab-runner-fleet-*`), for a
   * Lambda that serves fleets from the registry, whose names are not known at synth.
   */
  public grantOnAllFleetGroups(sid: string, actions: readonly string[]): void {
    const stack = Stack.of(this);
    const pattern = autoScalingGroupName('*');
    const arn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${pattern}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: [arn] }));
    this.acknowledge(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${this.regionAccount()}:autoScalingGroup:*:autoScalingGroupName/${pattern}]`,
      'Fleets launched from the Service Catalog join later, so their group names are not known at synth; the pattern matches fleet group names only (the naming rule of lib/identity).',
    );
  }

  /** Allows listing the fleet registry: the parameters directly under `path` (an SSM path ending in /). */
  public grantReadRegistry(sid: string, path: string): void {
    const stack = Stack.of(this);
    const trimmed = path.replace(/^\/|\/$/g, '');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['ssm:GetParametersByPath'],
        // GetParametersByPath is authorized on the path itself.
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: trimmed })],
      }),
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
