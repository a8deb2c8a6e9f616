import { describe, expect, it } from 'vitest';
import { ConfigError, loadFleetConfig, parseFleetConfig } from '../../lib/config';

const FLEET = { name: 'deploy', computeType: 'on-demand', instanceTypes: ['m7g.large'], capacity: { max: 2 } };
const ROLE = {
  name: 'web',
  projectPath: 'acme/web',
  refs: ['main'],
  inlineStatements: [{ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::b/*'] }],
};

function parse(deployRoles: unknown[], gitlab: Record<string, unknown> = {}) {
  return parseFleetConfig({ gitlab: { url: 'https://gitlab.example.com', ...gitlab }, fleets: [FLEET], deployRoles });
}

function problemsOf(deployRoles: unknown[], gitlab: Record<string, unknown> = {}): string[] {
  try {
    parse(deployRoles, gitlab);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the config to be rejected');
}

describe('deployRoles in the config', () => {
  it('defaults to no roles', () => {
    expect(parseFleetConfig({ gitlab: { url: 'https://gitlab.example.com' }, fleets: [FLEET] }).deployRoles).toEqual([]);
  });

  it('resolves the documented defaults of a role', () => {
    const [role] = parse([ROLE]).deployRoles!;
    expect(role).toEqual({
      ...ROLE,
      refType: 'branch',
      protectedRefsOnly: true,
      managedPolicyArns: [],
      fleets: [],
      maxSessionDurationMinutes: 60,
    });
  });

  it('keeps every override, and an existing OIDC provider ARN', () => {
    const config = parse(
      [
        {
          ...ROLE,
          refType: 'tag',
          refs: ['v*'],
          protectedRefsOnly: false,
          environment: 'production',
          managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
          fleets: ['deploy'],
          maxSessionDurationMinutes: 120,
        },
      ],
      { oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com' },
    );
    expect(config.deployRoles![0]).toMatchObject({
      refType: 'tag',
      environment: 'production',
      fleets: ['deploy'],
      maxSessionDurationMinutes: 120,
    });
    expect(config.gitlab.oidcProviderArn).toBe('arn:aws:iam::123456789012:oidc-provider/gitlab.example.com');
  });

  it('reports every problem at once, naming each field', () => {
    const problems = problemsOf([
      { ...ROLE, fleets: ['nope'] },
      { ...ROLE, inlineStatements: [] },
      { ...ROLE, name: 'Bad_Name', projectPath: 'acme web', refs: ['has space'], maxSessionDurationMinutes: 5 },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'deployRoles[0].fleets[0]: "nope" is not a fleet of this config (fleets: deploy)',
        'deployRoles[1].name: "web" is already the name of deployRoles[0]; names must be unique',
        'deployRoles[1]: grants nothing: give managedPolicyArns or inlineStatements',
        expect.stringMatching(/^deployRoles\[2\]\.name: "Bad_Name" must be 2-32 characters/),
        expect.stringMatching(/^deployRoles\[2\]\.projectPath: "acme web" must be a GitLab project path/),
        expect.stringMatching(/^deployRoles\[2\]\.refs\[0\]: "has space" must be a branch or tag name/),
        expect.stringMatching(/^deployRoles\[2\]\.maxSessionDurationMinutes/),
      ]),
    );
  });

  it('refuses an OIDC provider ARN that is not one', () => {
    expect(problemsOf([ROLE], { oidcProviderArn: 'arn:aws:iam::123456789012:role/x' })).toEqual([
      expect.stringMatching(/^gitlab\.oidcProviderArn: "arn:aws:iam::123456789012:role\/x" must be an IAM OIDC provider ARN/),
    ]);
  });

  it('loads the bundled deploy-roles example', () => {
    const config = loadFleetConfig('examples/deploy-roles.yaml');
    expect(config.deployRoles!.map((r) => r.name)).toEqual(['web-production', 'charts-release']);
  });
});
