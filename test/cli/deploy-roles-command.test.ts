import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployRoleSnippet, registerDeployRolesCommand, ruleExpression } from '../../lib/cli/deploy-roles-command';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import type { DeployRoleSpec } from '../../lib/config/fleet-config';
import { testConfig, rawFleet } from '../support/stack-helpers';

function capture(): CliOutput & { text: () => string } {
  let text = '';
  return { out: (t) => (text += t), err: (t) => (text += t), text: () => text };
}

async function cli(...args: string[]) {
  const output = capture();
  const program = createProgram(output);
  registerDeployRolesCommand(program, output);
  const code = await runProgram(program, ['node', 'runner-fleet', 'deploy-roles', ...args], output);
  return { code, text: output.text() };
}

function role(overrides: Partial<DeployRoleSpec> = {}): DeployRoleSpec {
  return {
    name: 'web',
    projectPath: 'acme/web',
    refType: 'branch',
    refs: ['main'],
    protectedRefsOnly: true,
    managedPolicyArns: [],
    inlineStatements: [{ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::b/*'] }],
    fleets: [],
    maxSessionDurationMinutes: 60,
    ...overrides,
  };
}

/** The job of a snippet, as GitLab would read it. */
function job(snippet: string, name = 'deploy-web'): Record<string, unknown> {
  return (parse(snippet) as Record<string, Record<string, unknown>>)[name];
}

describe('deploy-roles snippets', () => {
  it('requests an ID token with the audience the trust policy demands and sets the AWS web identity variables', () => {
    const j = job(deployRoleSnippet(role(), testConfig(), '123456789012'));

    expect(j.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: 'sts.amazonaws.com' } });
    expect(j.variables).toEqual({
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/gitlab-runner-fleet-deploy-web',
      AWS_ROLE_SESSION_NAME: 'gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}',
    });
    expect(j.before_script).toEqual([
      'export AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)"',
      'printf \'%s\' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"',
    ]);
  });

  it('names the account through a CI/CD variable when none is given', () => {
    expect((job(deployRoleSnippet(role(), testConfig())).variables as Record<string, string>).AWS_ROLE_ARN).toBe(
      'arn:aws:iam::${AWS_ACCOUNT_ID}:role/gitlab-runner-fleet-deploy-web',
    );
  });

  it('states the trusted sub in a comment', () => {
    expect(deployRoleSnippet(role(), testConfig())).toContain('sub project_path:acme/web:ref_type:branch:ref:main');
  });

  it('runs the job only on the role refs, protected ones unless told otherwise', () => {
    expect(ruleExpression(role())).toBe('$CI_COMMIT_BRANCH == "main" && $CI_COMMIT_REF_PROTECTED == "true"');
    expect(ruleExpression(role({ refs: ['main', 'release/*'], protectedRefsOnly: false }))).toBe(
      '($CI_COMMIT_BRANCH == "main" || $CI_COMMIT_BRANCH =~ /^release\\/.*$/)',
    );
    expect(ruleExpression(role({ refType: 'tag', refs: ['v1.?'] }))).toBe(
      '$CI_COMMIT_TAG =~ /^v1\\..$/ && $CI_COMMIT_REF_PROTECTED == "true"',
    );
  });

  it('declares the environment when the role has one', () => {
    expect(job(deployRoleSnippet(role({ environment: 'production' }), testConfig())).environment).toBe('production');
    expect(job(deployRoleSnippet(role(), testConfig()))).not.toHaveProperty('environment');
  });

  it('routes the job by the runner tags its fleets share, and says when it may run anywhere', () => {
    const config = testConfig([
      rawFleet({ name: 'spot-a', runnerTags: ['deploy'] }),
      rawFleet({ name: 'spot-b', runnerTags: ['deploy', 'big'] }),
    ]);

    expect(job(deployRoleSnippet(role({ fleets: ['spot-a', 'spot-b'] }), config)).tags).toEqual(['computetype-spot', 'arm64', 'deploy']);
    expect(deployRoleSnippet(role(), config)).toContain('may run on any runner');
  });

  it('leaves tags out and says so when the fleets share no runner tag', () => {
    const config = testConfig([
      rawFleet({ name: 'arm-spot' }),
      rawFleet({ name: 'x86-ondemand', computeType: 'on-demand', architecture: 'x86_64', instanceTypes: ['m7i.large'] }),
    ]);
    const snippet = deployRoleSnippet(role({ fleets: ['arm-spot', 'x86-ondemand'] }), config);

    expect(job(snippet)).not.toHaveProperty('tags');
    expect(snippet).toContain('# The fleets arm-spot, x86-ondemand share no runner tag');
  });
});

describe('runner-fleet deploy-roles', () => {
  it('prints one snippet per role of the config', async () => {
    const { code, text } = await cli('-c', 'examples/deploy-roles.yaml', '--account', '123456789012');

    expect(code).toBe(0);
    expect(Object.keys(parse(text) as object)).toEqual(['deploy-web-production', 'deploy-charts-release']);
  });

  it('prints only the role asked for', async () => {
    const { text } = await cli('-c', 'examples/deploy-roles.yaml', '--role', 'charts-release');

    expect(Object.keys(parse(text) as object)).toEqual(['deploy-charts-release']);
  });

  it('names the roles when asked for an unknown one', async () => {
    const { code, text } = await cli('-c', 'examples/deploy-roles.yaml', '--role', 'nope');

    expect([code, text]).toEqual([
      1,
      'runner-fleet: --role nope is not a deploy role of examples/deploy-roles.yaml (roles: web-production, charts-release)\n',
    ]);
  });

  it('says so when the config has no deploy roles', async () => {
    const { code, text } = await cli('-c', 'fleet.config.yaml');

    expect(code).toBe(1);
    expect(text).toMatch(/fleet\.config\.yaml has no deployRoles/);
  });

  it('refuses an account id that is not 12 digits', async () => {
    const { code, text } = await cli('-c', 'examples/deploy-roles.yaml', '--account', '42');

    expect(code).not.toBe(0);
    expect(text).toMatch(/must be a 12-digit AWS account id/);
  });
});
