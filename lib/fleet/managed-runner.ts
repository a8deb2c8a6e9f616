/**
 * The GitLab side of a fleet as code: one GitLab runner object per compute type the fleet runs
 * (a spot fleet with an on-demand floor gets two), each created, updated and deleted by a
 * custom resource, its glrt- token written by the handler straight into a Secrets Manager
 * secret of the fleet that only the fleet's instance role and the handler may read.
 *
 * A plain CustomResource with the Lambda as its service token, not the custom-resources
 * `Provider` framework: the handler must answer CloudFormation itself anyway to keep the token
 * out of every field it sends, and this way there is one function and one role to scope and
 * review instead of three (framework, handler, and their nag acknowledgements).
 */
import { Aws, CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { fleetRunnerObjects, type ComputeType, type FleetRunnerObject, type FleetSpec, type GitLabSettings } from '../config/fleet-config';
import { managedRunnerSettings, runnerDescription, RUNNER_TYPES } from '../identity/managed-runner-settings';
import { handlerConfig } from '../lambda/shared/handler-config';
import { FleetLambdaFunction } from './fleet-lambda';
import { ScheduledTokenRotation } from './token-rotation';

export interface ManagedGitLabRunnersProps {
  /** The fleet; `fleet.managedRunner` says where and how the runners are created. */
  readonly fleet: FleetSpec;
  /** The GitLab the runners are created in. */
  readonly gitlab: GitLabSettings;
  /**
   * Retention of the handler's logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** One runner object: its token secret and the custom resource that owns it. */
export interface ManagedRunnerObject {
  readonly spec: FleetRunnerObject;
  readonly tokenSecret: secretsmanager.Secret;
  readonly resource: CustomResource;
  /** The GitLab runner id (a number as a string), resolved at deploy time. */
  readonly runnerId: string;
}

export class ManagedGitLabRunners extends Construct {
  /** In the order of fleetRunnerObjects: the fleet's own compute type first. */
  public readonly runners: readonly ManagedRunnerObject[];
  public readonly handler: FleetLambdaFunction;
  /** Present with `fleet.managedRunner.rotation`: the schedule and workflow that rotate the tokens. */
  public readonly rotation?: ScheduledTokenRotation;

  constructor(scope: Construct, id: string, props: ManagedGitLabRunnersProps) {
    super(scope, id);
    const { fleet } = props;
    const managed = fleet.managedRunner;
    if (!managed) throw new Error(`ManagedGitLabRunners: fleet ${fleet.name} has no managedRunner settings`);
    if (managed.scope !== 'instance' && managed.namespace === undefined) {
      throw new Error(`ManagedGitLabRunners: fleet.managedRunner.namespace is required for scope ${managed.scope}`);
    }

    this.handler = new FleetLambdaFunction(this, 'Handler', {
      handler: 'gitlab-runner',
      description: `GitLab runner fleet ${fleet.name}: creates, updates and deletes its GitLab runner objects`,
      config: handlerConfig([fleet], props.gitlab),
      caCertificate: props.gitlab.caCertificate,
      timeout: Duration.minutes(3),
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.handler.grantReadSecrets(
      'ReadGitLabAccessToken',
      [managed.accessTokenSecretName],
      'Name-based secret ARN: Secrets Manager appends "-" and six random characters to the name; the wildcard matches only those six.',
    );

    const stack = Stack.of(this);
    const account = Token.isUnresolved(stack.account) ? Aws.ACCOUNT_ID : stack.account;
    const region = Token.isUnresolved(stack.region) ? Aws.REGION : stack.region;
    this.runners = fleetRunnerObjects(fleet).map((spec) => {
      const suffix = spec.computeType === 'spot' ? 'Spot' : 'OnDemand';
      const tokenSecret = new secretsmanager.Secret(this, `${suffix}Token`, {
        secretName: spec.tokenSecretName,
        description: `glrt- token of the GitLab runner of fleet ${fleet.name} (${spec.computeType}); written by its gitlab-runner custom resource`,
        // Replaced by the runner's token before any instance starts; never a usable credential.
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
      });
      Validations.of(tokenSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          "A runner token is rotated by `runner-fleet rotate-token` or the fleet's scheduled rotation workflow (gitlabRunner.rotation: new runner, instance refresh through the drain hook, old runner deleted), " +
          'not by a Secrets Manager rotation Lambda, whose at most 15-minute steps cannot wait for a roll that drains jobs for hours.',
      });
      (tokenSecret.node.defaultChild as secretsmanager.CfnSecret).addMetadata('checkov', {
        skip: [
          {
            id: 'CKV_AWS_149',
            comment:
              'Encrypted with the aws/secretsmanager key; who may read it is enforced by the secret resource policy (instance role and handler only), which a customer-managed key would only duplicate at a monthly cost.',
          },
        ],
      });
      const settings = managedRunnerSettings(fleet, spec, runnerDescription(fleet.name, spec.computeType, account, region));
      const resource = new CustomResource(this, `${suffix}Runner`, {
        serviceToken: this.handler.function.functionArn,
        resourceType: 'Custom::GitLabRunner',
        properties: {
          FleetName: fleet.name,
          ComputeType: spec.computeType,
          RunnerType: RUNNER_TYPES[managed.scope],
          Namespace: managed.namespace === undefined ? '' : String(managed.namespace),
          AccessTokenSecretId: managed.accessTokenSecretName,
          TokenSecretId: tokenSecret.secretArn,
          Description: settings.description,
          TagList: [...settings.tag_list],
          RunUntagged: String(settings.run_untagged),
          Locked: String(settings.locked),
          AccessLevel: settings.access_level,
          Paused: String(settings.paused),
          MaximumTimeout: String(settings.maximum_timeout),
        },
      });
      // The token is written before the resource reports success.
      resource.node.addDependency(tokenSecret);
      return { spec, tokenSecret, resource, runnerId: resource.getAttString('RunnerId') };
    });

    if (managed.rotation) {
      this.rotation = new ScheduledTokenRotation(this, 'TokenRotation', {
        fleet,
        rotation: managed.rotation,
        gitlab: props.gitlab,
        tokenSecrets: this.runners.map((r) => r.tokenSecret),
        logRetention: props.logRetention,
      });
    }

    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnRunnerTokens',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: this.runners.map((r) => r.tokenSecret.secretArn),
      }),
    );
  }

  /** The token secret of the runner whose instances have `computeType`, if the fleet has one. */
  public tokenSecret(computeType: ComputeType): secretsmanager.Secret | undefined {
    return this.runners.find((r) => r.spec.computeType === computeType)?.tokenSecret;
  }

  /**
   * Lets nobody but `readers` (the instance role, and the Lambdas that deregister managers with
   * the runner token) and the handler read the token secrets, whatever their own IAM policies
   * allow: a resource policy denies GetSecretValue to every other principal.
   */
  public restrictReadTo(readers: readonly iam.IRole[]): void {
    const allowed = [
      ...readers.map((role) => role.roleArn),
      this.handler.role.roleArn,
      ...(this.rotation ? [this.rotation.handler.role.roleArn] : []),
    ];
    for (const { tokenSecret } of this.runners) {
      tokenSecret.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyFleetInstancesAndHandlerRead',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['secretsmanager:GetSecretValue'],
          resources: ['*'],
          conditions: { StringNotEquals: { 'aws:PrincipalArn': allowed } },
        }),
      );
    }
  }
}
