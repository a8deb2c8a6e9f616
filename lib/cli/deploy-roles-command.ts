/**
 * `runner-fleet deploy-roles`: the `.gitlab-ci.yml` job snippet for each deploy role of a config.
 * Each job requests an ID token with the audience the role's trust policy demands, writes it to a
 * temporary file and points the AWS CLI and SDKs at it with their web identity variables
 * (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_SESSION_NAME): no long-lived key anywhere.
 *
 * The job's rules repeat what the trust policy checks (project, ref) plus what only GitLab can
 * check (protected ref, environment); runner tags route it to the role's fleets.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { stringify } from 'yaml';
import type { DeployRoleSpec, FleetConfig } from '../config/fleet-config';
import { DEFAULT_CONFIG_FILE, loadFleetConfig } from '../config/load';
import { DEPLOY_ROLE_AUDIENCE, deployRoleName, deployRoleSubjects, isPattern } from '../identity/gitlab-oidc';
import { PROCESS_OUTPUT, UsageError, type CliOutput } from './program';

/** CI/CD variable the snippets use for the account when --account is not given. */
export const ACCOUNT_PLACEHOLDER = '${AWS_ACCOUNT_ID}';

export interface DeployRolesOptions {
  readonly config: string;
  readonly account?: string;
  readonly role?: string;
}

function accountId(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('must be a 12-digit AWS account id');
  return value;
}

/** A GitLab CI regex literal matching exactly the names an IAM StringLike pattern matches. */
function refRegex(pattern: string): string {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return `/^${body}$/`;
}

/** The `rules: if` expression that runs the job only where the role's trust policy (and GitLab) let it. */
export function ruleExpression(role: DeployRoleSpec): string {
  const variable = role.refType === 'tag' ? '$CI_COMMIT_TAG' : '$CI_COMMIT_BRANCH';
  const refs = role.refs.map((ref) => (isPattern(ref) ? `${variable} =~ ${refRegex(ref)}` : `${variable} == ${JSON.stringify(ref)}`));
  const refClause = refs.length === 1 ? refs[0] : `(${refs.join(' || ')})`;
  return role.protectedRefsOnly ? `${refClause} && $CI_COMMIT_REF_PROTECTED == "true"` : refClause;
}

/** Runner tags every listed fleet carries, so the job can land on any of them (and nowhere else). */
function routingTags(role: DeployRoleSpec, config: FleetConfig): readonly string[] | undefined {
  if (role.fleets.length === 0) return undefined;
  const tagSets = role.fleets.map((name) => config.fleets.find((f) => f.name === name)?.runnerTags ?? []);
  return tagSets.reduce<readonly string[]>((common, tags) => common.filter((tag) => tags.includes(tag)), tagSets[0]);
}

/** The snippet for one role: comment lines, then the job as YAML. */
export function deployRoleSnippet(role: DeployRoleSpec, config: FleetConfig, account = ACCOUNT_PLACEHOLDER): string {
  const tags = routingTags(role, config);
  const job: Record<string, unknown> = {};
  if (tags && tags.length > 0) job.tags = tags;
  if (role.environment) job.environment = role.environment;
  job.rules = [{ if: ruleExpression(role) }];
  job.id_tokens = { AWS_ID_TOKEN: { aud: DEPLOY_ROLE_AUDIENCE } };
  job.variables = {
    AWS_ROLE_ARN: `arn:aws:iam::${account}:role/${deployRoleName(role.name)}`,
    AWS_ROLE_SESSION_NAME: 'gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}',
  };
  job.before_script = [
    // Outside the project directory, so the token cannot end up in artifacts or caches.
    'export AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)"',
    'printf \'%s\' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"',
  ];
  job.script = ['aws sts get-caller-identity'];
  const subjects = deployRoleSubjects(role);
  const comments = [
    `# Deploy role ${role.name}: ${role.projectPath}, ${role.refType} ${role.refs.join(', ')}` +
      `${role.protectedRefsOnly ? ' (protected refs only)' : ''}${role.environment ? `, environment ${role.environment}` : ''}`,
    `# The role trusts ID tokens with aud ${DEPLOY_ROLE_AUDIENCE} and sub ${subjects.join(' or ')}.`,
    ...(tags && tags.length === 0
      ? [`# The fleets ${role.fleets.join(', ')} share no runner tag: add tags yourself to route this job.`]
      : []),
    ...(role.fleets.length === 0 ? ['# No fleets listed for the role: the job may run on any runner of the project.'] : []),
  ];
  return `${comments.join('\n')}\n${stringify({ [`deploy-${role.name}`]: job }, { lineWidth: 0 })}`;
}

/** Every role's snippet, or the one named by --role. */
export function deployRolesOutput(options: DeployRolesOptions): string {
  const config = loadFleetConfig(options.config);
  const roles = config.deployRoles ?? [];
  if (roles.length === 0) throw new UsageError(`${options.config} has no deployRoles: add one (see docs/security.md) to get a snippet`);
  const selected = options.role ? roles.filter((r) => r.name === options.role) : roles;
  if (selected.length === 0) {
    throw new UsageError(
      `--role ${options.role} is not a deploy role of ${options.config} (roles: ${roles.map((r) => r.name).join(', ')})`,
    );
  }
  return selected.map((role) => deployRoleSnippet(role, config, options.account)).join('\n');
}

/** Adds the `deploy-roles` subcommand to the program. */
export function registerDeployRolesCommand(program: Command, output: CliOutput = PROCESS_OUTPUT): Command {
  return program
    .command('deploy-roles')
    .description('Print the .gitlab-ci.yml job snippet for each deploy role: id_tokens, and the AWS web identity variables.')
    .option('-c, --config <file>', 'fleet configuration file', DEFAULT_CONFIG_FILE)
    .option('--account <id>', `AWS account of the roles (default: the CI/CD variable ${ACCOUNT_PLACEHOLDER})`, accountId)
    .option('--role <name>', 'only this deploy role')
    .action((options: DeployRolesOptions) => {
      output.out(deployRolesOutput(options));
    });
}
