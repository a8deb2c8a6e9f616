/**
 * How a GitLab CI job proves who it is to AWS (OIDC ID tokens), as the deploy-role trust
 * policies and the `runner-fleet deploy-roles` snippets both need it. Pure: no CDK, no SDK.
 *
 * GitLab's ID token `sub` is `project_path:<group>/<project>:ref_type:<branch|tag>:ref:<ref>`,
 * and AWS STS can check only `aud` and `sub` of a GitLab token (its provider-specific claim
 * checks cover GitHub, Google, CircleCI and OCI, not GitLab). Everything the trust policy
 * enforces is therefore in these two claims.
 */

/** The `aud` every deploy-role job requests and every trust policy demands (the IAM provider's client id). */
export const DEPLOY_ROLE_AUDIENCE = 'sts.amazonaws.com';

export type RefType = 'branch' | 'tag';

/** What a deploy role trusts: one project (or a group's projects) and a set of refs. */
export interface DeployRoleSubject {
  /** Project path (`group/sub/project`), or a group's projects (`group/*`). */
  readonly projectPath: string;
  readonly refType: RefType;
  /** Branch or tag names; `*` matches any characters (an IAM StringLike pattern). */
  readonly refs: readonly string[];
}

/** The IAM role name of a deploy role: fixed, so the CI snippet can name its ARN. */
export function deployRoleName(name: string): string {
  return `gitlab-runner-fleet-deploy-${name}`;
}

/** The IAM condition key prefix of an OIDC provider: its URL without the scheme (`gitlab.com`, `git.example.com/gitlab`). */
export function oidcConditionPrefix(gitlabUrl: string): string {
  return gitlabUrl.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/** The `sub` values (or StringLike patterns) a role accepts, one per ref. */
export function deployRoleSubjects(subject: DeployRoleSubject): string[] {
  return subject.refs.map((ref) => `project_path:${subject.projectPath}:ref_type:${subject.refType}:ref:${ref}`);
}

/** True when any `sub` value is a pattern, so the trust policy needs StringLike instead of StringEquals. */
export function isPattern(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/** True when a ref pattern matches every ref name (`*`), i.e. any branch (or tag) can assume the role. */
export function coversAllRefs(subject: DeployRoleSubject): boolean {
  return subject.refs.some((ref) => /^\**$/.test(ref));
}
