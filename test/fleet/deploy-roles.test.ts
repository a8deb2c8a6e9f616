/**
 * GitLab OIDC deploy roles: the provider, and trust policies that pin aud and sub exactly.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { DeployRoleSpec } from '../../lib/config/fleet-config';
import { GitLabDeployRoles, type GitLabDeployRolesProps } from '../../lib/fleet/deploy-roles';
import { awsSolutionsFindings } from './nag';

function role(overrides: Partial<DeployRoleSpec> = {}): DeployRoleSpec {
  return {
    name: 'web-production',
    projectPath: 'acme/web/storefront',
    refType: 'branch',
    refs: ['main'],
    protectedRefsOnly: true,
    managedPolicyArns: [],
    inlineStatements: [{ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::acme-site/*'] }],
    fleets: [],
    maxSessionDurationMinutes: 60,
    ...overrides,
  };
}

function build(props: Partial<GitLabDeployRolesProps> = {}) {
  const stack = new Stack(new App(), 'Shared', { env: { account: '123456789012', region: 'eu-central-1' } });
  const construct = new GitLabDeployRoles(stack, 'DeployRoles', { gitlabUrl: 'https://gitlab.example.com', roles: [role()], ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

interface TrustStatement {
  Action: string;
  Principal: { Federated: unknown };
  Condition: Record<string, Record<string, unknown>>;
}

function trust(template: Template, roleName: string): TrustStatement {
  const [resource] = Object.values(template.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } }));
  return (resource.Properties.AssumeRolePolicyDocument as { Statement: TrustStatement[] }).Statement[0];
}

describe('GitLabDeployRoles: the OIDC provider', () => {
  it('creates one provider for the GitLab URL with sts.amazonaws.com as client id', () => {
    const { template } = build({ roles: [role(), role({ name: 'other', refs: ['release'] })] });

    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://gitlab.example.com', ClientIdList: ['sts.amazonaws.com'] });
  });

  it('imports an existing provider by ARN instead of creating one', () => {
    const arn = 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com';
    const { template } = build({ oidcProviderArn: arn });

    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(trust(template, 'gitlab-runner-fleet-deploy-web-production').Principal.Federated).toBe(arn);
  });
});

describe('GitLabDeployRoles: trust policies', () => {
  it('pins aud and sub with StringEquals for exact refs, and allows only AssumeRoleWithWebIdentity', () => {
    const statement = trust(build().template, 'gitlab-runner-fleet-deploy-web-production');

    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement.Condition).toEqual({
      StringEquals: {
        'gitlab.example.com:aud': 'sts.amazonaws.com',
        'gitlab.example.com:sub': 'project_path:acme/web/storefront:ref_type:branch:ref:main',
      },
    });
  });

  it('lists one exact sub per ref', () => {
    const statement = trust(build({ roles: [role({ refs: ['main', 'hotfix'] })] }).template, 'gitlab-runner-fleet-deploy-web-production');

    expect(statement.Condition.StringEquals['gitlab.example.com:sub']).toEqual([
      'project_path:acme/web/storefront:ref_type:branch:ref:main',
      'project_path:acme/web/storefront:ref_type:branch:ref:hotfix',
    ]);
    expect(statement.Condition.StringLike).toBeUndefined();
  });

  it('uses StringLike for sub only when the config asks for a pattern, and keeps aud exact', () => {
    const spec = role({ name: 'charts', projectPath: 'acme/charts/*', refType: 'tag', refs: ['v*'] });
    const statement = trust(build({ roles: [spec] }).template, 'gitlab-runner-fleet-deploy-charts');

    expect(statement.Condition).toEqual({
      StringEquals: { 'gitlab.example.com:aud': 'sts.amazonaws.com' },
      StringLike: { 'gitlab.example.com:sub': 'project_path:acme/charts/*:ref_type:tag:ref:v*' },
    });
  });

  it('keys the conditions by the GitLab host and path (a GitLab under a relative URL)', () => {
    const statement = trust(build({ gitlabUrl: 'https://git.example.com/gitlab' }).template, 'gitlab-runner-fleet-deploy-web-production');

    expect(Object.keys(statement.Condition.StringEquals).sort()).toEqual(['git.example.com/gitlab:aud', 'git.example.com/gitlab:sub']);
  });

  it('sets the maximum session duration from the config', () => {
    build({ roles: [role({ maxSessionDurationMinutes: 120 })] }).template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'gitlab-runner-fleet-deploy-web-production',
      MaxSessionDuration: 7200,
    });
  });

  it('grants exactly the configured managed policies and inline statements', () => {
    const managed = 'arn:aws:iam::123456789012:policy/deploy-web';
    const { template } = build({ roles: [role({ managedPolicyArns: [managed] })] });

    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'gitlab-runner-fleet-deploy-web-production',
      ManagedPolicyArns: [managed],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 's3:PutObject', Effect: 'Allow', Resource: 'arn:aws:s3:::acme-site/*' }] },
    });
  });
});

describe('GitLabDeployRoles: warnings and validation', () => {
  it('warns when a pattern covers every branch', () => {
    const { stack } = build({ roles: [role({ refs: ['*'] })] });

    Annotations.fromStack(stack).hasWarning(
      '/Shared/DeployRoles/Role-web-production',
      Match.stringLikeRegexp('refs \\["\\*"\\] cover every branch of acme/web/storefront'),
    );
  });

  it('does not warn for exact refs or a narrower pattern', () => {
    const { stack } = build({ roles: [role({ refs: ['main', 'release/*'] })] });

    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('cover every'));
  });

  it('refuses an http:// GitLab URL and a role that grants nothing, all at once', () => {
    expect(() => build({ gitlabUrl: 'http://gitlab.example.com', roles: [role({ inlineStatements: [] })] })).toThrow(
      /gitlabUrl "http:\/\/gitlab\.example\.com" is not an https:\/\/ URL[\s\S]*roles\[0\] \(web-production\) grants nothing/,
    );
  });

  it('is clean under the cdk-nag AwsSolutions checks', () => {
    const { stack } = build({ roles: [role({ managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] })] });

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
