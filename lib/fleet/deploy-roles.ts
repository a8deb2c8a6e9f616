/**
 * Deploy rights for CD jobs without the instance role: one IAM role per `deployRoles` entry,
 * assumed with the job's GitLab OIDC ID token (AssumeRoleWithWebIdentity), and the IAM OIDC
 * provider for the GitLab URL (created, or imported by ARN).
 *
 * A trust policy pins `aud` exactly and `sub` to the configured project and refs: exact values
 * with StringEquals, StringLike only where the config asks for a pattern. AWS STS checks no other
 * claim of a GitLab token, so protected refs and environments are guarded in GitLab (see
 * docs/security.md); a pattern that covers every branch or tag draws a synth warning.
 */
import { Annotations, Duration, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { DeployRoleSpec } from '../config/fleet-config';
import { gitlabUrlProblem } from '../identity/gitlab-url';
import {
  coversAllRefs,
  DEPLOY_ROLE_AUDIENCE,
  deployRoleName,
  deployRoleSubjects,
  isPattern,
  oidcConditionPrefix,
} from '../identity/gitlab-oidc';

export interface GitLabDeployRolesProps {
  /** The GitLab whose ID tokens the roles accept (its URL is the token issuer), https only. */
  readonly gitlabUrl: string;
  /**
   * An existing IAM OIDC provider for `gitlabUrl` (IAM allows one per URL and account).
   * @default - a new provider for `gitlabUrl` with client id sts.amazonaws.com
   */
  readonly oidcProviderArn?: string;
  /** One role per entry. */
  readonly roles: readonly DeployRoleSpec[];
}

export class GitLabDeployRoles extends Construct {
  public readonly oidcProvider: iam.IOidcProvider;
  /** By deploy role name. */
  public readonly roles: ReadonlyMap<string, iam.Role>;

  constructor(scope: Construct, id: string, props: GitLabDeployRolesProps) {
    super(scope, id);
    validate(props);
    this.oidcProvider = props.oidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'OidcProvider', props.oidcProviderArn)
      : new iam.OidcProviderNative(this, 'OidcProvider', { url: props.gitlabUrl, clientIds: [DEPLOY_ROLE_AUDIENCE] });
    const prefix = oidcConditionPrefix(props.gitlabUrl);
    const roles = new Map<string, iam.Role>();
    for (const spec of props.roles) {
      roles.set(spec.name, this.createRole(spec, prefix));
    }
    this.roles = roles;
  }

  private createRole(spec: DeployRoleSpec, prefix: string): iam.Role {
    const subjects = deployRoleSubjects(spec);
    const subjectOperator = subjects.some(isPattern) ? 'StringLike' : 'StringEquals';
    const conditions: Record<string, Record<string, unknown>> = {
      StringEquals: { [`${prefix}:aud`]: DEPLOY_ROLE_AUDIENCE },
    };
    conditions[subjectOperator] = { ...conditions[subjectOperator], [`${prefix}:sub`]: subjects.length === 1 ? subjects[0] : subjects };

    const role = new iam.Role(this, `Role-${spec.name}`, {
      roleName: deployRoleName(spec.name),
      description: `GitLab CI deploy role ${spec.name}: ${spec.projectPath} ${spec.refType} ${spec.refs.join(', ')}`,
      assumedBy: new iam.WebIdentityPrincipal(this.oidcProvider.oidcProviderArn, conditions),
      maxSessionDuration: Duration.minutes(spec.maxSessionDurationMinutes),
      managedPolicies: spec.managedPolicyArns.map((arn) => iam.ManagedPolicy.fromManagedPolicyArn(this, `Policy-${spec.name}-${arn}`, arn)),
    });
    spec.inlineStatements.forEach((statement) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...statement.actions], resources: [...statement.resources] })),
    );

    if (coversAllRefs(spec)) {
      Annotations.of(role).addWarningV2(
        'gitlab-runner-fleet:deploy-role-all-refs',
        `deployRoles ${spec.name}: refs ${JSON.stringify(spec.refs)} cover every ${spec.refType} of ${spec.projectPath}, so any ` +
          `pipeline that can push a ${spec.refType} there can assume the role; list the ${spec.refType}es that deploy instead`,
      );
    }
    // The rights are what the config grants, reviewed there; nothing else is on the role.
    const reason = `The deploy rights of deployRoles ${spec.name}, granted explicitly by the fleet configuration (managedPolicyArns, inlineStatements).`;
    const findings = new Set<string>();
    for (const arn of spec.managedPolicyArns) findings.add(`AwsSolutions-IAM4[Policy::${arn}]`);
    for (const statement of spec.inlineStatements) {
      for (const action of statement.actions) if (action.includes('*')) findings.add(`AwsSolutions-IAM5[Action::${action}]`);
      for (const resource of statement.resources) if (resource.includes('*')) findings.add(`AwsSolutions-IAM5[Resource::${resource}]`);
    }
    for (const finding of findings) Validations.of(role).acknowledge({ id: finding, reason });
    return role;
  }
}

function validate(props: GitLabDeployRolesProps): void {
  const problems: string[] = [];
  const urlProblem = Token.isUnresolved(props.gitlabUrl) ? undefined : gitlabUrlProblem(props.gitlabUrl);
  if (urlProblem) problems.push(`gitlabUrl ${urlProblem}`);
  const names = new Set<string>();
  props.roles.forEach((role, i) => {
    if (names.has(role.name)) problems.push(`roles[${i}].name (${role.name}) is used twice`);
    names.add(role.name);
    if (role.refs.length === 0) problems.push(`roles[${i}].refs must list at least one ${role.refType}`);
    if (role.managedPolicyArns.length === 0 && role.inlineStatements.length === 0)
      problems.push(`roles[${i}] (${role.name}) grants nothing: give managedPolicyArns or inlineStatements`);
    const minutes = role.maxSessionDurationMinutes;
    if (!Token.isUnresolved(minutes) && !(Number.isInteger(minutes) && minutes >= 60 && minutes <= 720))
      problems.push(`roles[${i}].maxSessionDurationMinutes (${minutes}) must be a whole number from 60 to 720`);
  });
  if (problems.length > 0) throw new Error(`GitLabDeployRoles: invalid props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
