/**
 * The gitlab-runner custom resource checks the GitLab version (GET /api/v4/version) before it
 * creates or updates a runner: a readable, too-old version fails with one line naming the version
 * found, the minimum and the feature; a version endpoint it may not read, or that is missing,
 * only logs a warning. Fake GitLab over loopback, Secrets Manager mocked, logs captured.
 */
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { createRunnerResourceHandler } from '../../lib/lambda/gitlab-runner/handler';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, LOOPBACK_TIMEOUT_MS } from '../support/fake-gitlab';

const ACCESS_SECRET = 'gitlab-runner-fleet/access-token';
const TOKEN_SECRET = 'gitlab-runner-fleet/versioned/runner-token';

const properties = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runner',
  FleetName: 'versioned',
  ComputeType: 'spot',
  RunnerType: 'instance_type',
  AccessTokenSecretId: ACCESS_SECRET,
  TokenSecretId: TOKEN_SECRET,
  Description: 'gitlab-runner-fleet versioned (spot) in 123456789012/eu-west-1',
  TagList: ['computetype-spot', 'arm64', 'docker'],
  RunUntagged: 'false',
  Locked: 'false',
  AccessLevel: 'not_protected',
  Paused: 'false',
  MaximumTimeout: '3600',
  ...overrides,
});

describe('gitlab-runner custom resource: GitLab version check', () => {
  let gitlab: FakeGitLab;
  let accessToken: string;
  let secretStore: Map<string, string>;
  let logs: string[];
  let handler: ReturnType<typeof createRunnerResourceHandler>;
  const { secrets, secretsMock, resetAwsMocks } = mockedAwsClients();

  const event = (requestType: 'Create' | 'Update' | 'Delete', props = properties(), old?: Record<string, unknown>) =>
    ({
      RequestType: requestType,
      ServiceToken: String(props.ServiceToken),
      ResponseURL: 'https://cloudformation-response.example/unused',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/gitlab-runner-fleet-versioned/1',
      RequestId: `req-${requestType}`,
      LogicalResourceId: 'SpotRunner',
      ResourceType: 'Custom::GitLabRunner',
      ResourceProperties: props,
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'gitlab-runner-fleet-versioned-spot-runner' }),
      ...(old ? { OldResourceProperties: old } : {}),
    }) as CloudFormationCustomResourceEvent;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    accessToken = ['glpat', 'versioncheck000000000'].join('-');
    gitlab.allowApiToken(accessToken, ['create_runner', 'manage_runner', 'read_api']);
    resetAwsMocks();
    secretStore = new Map([
      [ACCESS_SECRET, accessToken],
      [TOKEN_SECRET, 'placeholder written at creation'],
    ]);
    secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({ SecretString: secretStore.get(input.SecretId) }));
    secretsMock.on(PutSecretValueCommand).callsFake((input: { SecretId: string; SecretString: string }) => {
      secretStore.set(input.SecretId, input.SecretString);
      return {};
    });
    logs = [];
    const capture = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
    const client = new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: LOOPBACK_TIMEOUT_MS, maxAttempts: 2, sleep: async () => {} });
    // The response document goes to a stand-in: these tests read the handler's result.
    handler = createRunnerResourceHandler(() => ({ gitlab: client, secrets, respond: async () => {} }));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    const everything = logs.join('\n');
    expect(everything).not.toContain(accessToken);
    for (const runner of gitlab.runners) expect(everything).not.toContain(runner.token);
    await gitlab.stop();
  });

  it('fails a create on a GitLab too old for runner creation with one line naming both versions and the feature', async () => {
    gitlab.version = '16.11.2-ee';

    const result = await handler(event('Create'));

    expect(result.Status).toBe('FAILED');
    expect(result.Reason).toBe(
      `GitLab at ${gitlab.url} is version 16.11.2-ee, too old: creating and managing runners with an access token ` +
        '(POST /api/v4/user/runners, scopes create_runner and manage_runner) needs GitLab 17.1 or later. ' +
        'Upgrade GitLab, or point gitlab.url at one that is new enough.',
    );
    expect(gitlab.requests.map((r) => r.path)).not.toContain('/api/v4/user/runners');
    expect(secretStore.get(TOKEN_SECRET)).toBe('placeholder written at creation');
  });

  it('fails an update on a too-old GitLab before changing the runner', async () => {
    const runner = gitlab.addRunner(fakeRunnerToken('versioned'), { tag_list: ['computetype-spot', 'arm64', 'docker'] });
    secretStore.set(TOKEN_SECRET, runner.token);
    gitlab.version = '17.0.3';

    const result = await handler(event('Update', properties({ TagList: ['computetype-spot', 'arm64', 'docker', 'big'] }), properties()));

    expect(result.Status).toBe('FAILED');
    expect(result.Reason).toContain('is version 17.0.3, too old');
    expect(gitlab.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('creates on a GitLab exactly at the minimum version', async () => {
    gitlab.version = '17.1.0';

    const result = await handler(event('Create'));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.runners).toHaveLength(1);
  });

  it('goes on, with a warning, when the access token may not read the version (no read_api scope)', async () => {
    gitlab.allowApiToken(accessToken, ['create_runner', 'manage_runner']);
    gitlab.version = '10.0.0';

    const result = await handler(event('Create'));

    expect(result.Status).toBe('SUCCESS');
    expect(logs.join('\n')).toMatch(/"level":"warn".*could not check the GitLab version: the token may not read it \(HTTP 403/);
  });

  it('goes on, with a warning, when GitLab answers 404 for the version endpoint', async () => {
    gitlab.inject({ kind: 'status', status: 404, times: 1, path: /\/api\/v4\/version$/ });

    const result = await handler(event('Create'));

    expect(result.Status).toBe('SUCCESS');
    expect(logs.join('\n')).toContain('GitLab has no GET /api/v4/version (HTTP 404); going on without the check');
  });

  it('deletes the runner without a version check, so an old GitLab never strands a stack deletion', async () => {
    const runner = gitlab.addRunner(fakeRunnerToken('versioned'));
    secretStore.set(TOKEN_SECRET, runner.token);
    gitlab.version = '15.0.0';

    const result = await handler(event('Delete'));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.requests.map((r) => r.path)).not.toContain('/api/v4/version');
  });
});
