/**
 * The gitlab-runner custom resource handler against the fake GitLab over loopback, a mocked
 * Secrets Manager holding real state, and a loopback server standing in for CloudFormation's
 * pre-signed response URL. Every test also checks that no token reached a log line or a response.
 */
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { createRunnerResourceHandler } from '../../lib/lambda/gitlab-runner/handler';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab } from '../support/fake-gitlab';
import { startLoopbackServer, type LoopbackServer } from '../support/loopback-server';

const ACCESS_SECRET = 'gitlab-runner-fleet/access-token';
const TOKEN_SECRET = 'gitlab-runner-fleet/spotty/runner-token';

function properties(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:runner',
    FleetName: 'spotty',
    ComputeType: 'spot',
    RunnerType: 'group_type',
    Namespace: 'my-org/platform',
    AccessTokenSecretId: ACCESS_SECRET,
    TokenSecretId: TOKEN_SECRET,
    Description: 'gitlab-runner-fleet spotty (spot) in 123456789012/eu-west-1',
    TagList: ['computetype-spot', 'arm64', 'docker'],
    RunUntagged: 'false',
    Locked: 'false',
    AccessLevel: 'not_protected',
    Paused: 'false',
    MaximumTimeout: '3600',
    ...overrides,
  };
}

describe('gitlab-runner custom resource handler', () => {
  let gitlab: FakeGitLab;
  let cfn: LoopbackServer;
  let responses: Array<Record<string, unknown>>;
  let logs: string[];
  let accessToken: string;
  let secretStore: Map<string, string>;
  let sleeps: number[];
  const { secrets, secretsMock, resetAwsMocks } = mockedAwsClients();
  let handler: ReturnType<typeof createRunnerResourceHandler>;

  const event = (
    requestType: 'Create' | 'Update' | 'Delete',
    props = properties(),
    old?: Record<string, unknown>,
  ): CloudFormationCustomResourceEvent =>
    ({
      RequestType: requestType,
      ServiceToken: String(props.ServiceToken),
      ResponseURL: `${cfn.url}/response?X-Amz-Signature=abc`,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/gitlab-runner-fleet-spotty/1',
      RequestId: `req-${requestType}`,
      LogicalResourceId: 'SpotRunner',
      ResourceType: 'Custom::GitLabRunner',
      ResourceProperties: props,
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'gitlab-runner-fleet-spotty-spot-runner' }),
      ...(old ? { OldResourceProperties: old } : {}),
    }) as CloudFormationCustomResourceEvent;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    gitlab.namespaces.group.set('my-org/platform', 321);
    accessToken = ['glpat', 'fleetmanager000000000'].join('-');
    gitlab.allowApiToken(accessToken, ['create_runner', 'manage_runner', 'read_api']);
    responses = [];
    cfn = await startLoopbackServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        responses.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200).end();
      });
    });
    resetAwsMocks();
    secretStore = new Map([
      [ACCESS_SECRET, accessToken],
      [TOKEN_SECRET, 'placeholder written at creation'],
    ]);
    secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
      const value = secretStore.get(input.SecretId);
      if (value === undefined)
        throw Object.assign(new Error('Secrets Manager can’t find the specified secret.'), { name: 'ResourceNotFoundException' });
      return { SecretString: value, ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.SecretId}-AbCdEf` };
    });
    secretsMock.on(PutSecretValueCommand).callsFake((input: { SecretId: string; SecretString: string }) => {
      secretStore.set(input.SecretId, input.SecretString);
      return {};
    });
    logs = [];
    const capture = (...args: unknown[]) => void logs.push(args.map(String).join(' '));
    vi.spyOn(console, 'log').mockImplementation(capture);
    vi.spyOn(console, 'error').mockImplementation(capture);
    sleeps = [];
    const client = new GitLabRunnerClient({
      baseUrl: gitlab.url,
      timeoutMs: 5000,
      maxAttempts: 4,
      sleep: async (ms) => void sleeps.push(ms),
    });
    handler = createRunnerResourceHandler(() => ({ gitlab: client, secrets }));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    const everything = [...logs, ...responses.map((r) => JSON.stringify(r))].join('\n');
    expect(everything).not.toContain(accessToken);
    for (const runner of gitlab.runners) expect(everything).not.toContain(runner.token);
    expect(everything).not.toMatch(/glrt-[A-Za-z0-9_-]{4,}/);
    await gitlab.stop();
    await cfn.stop();
  });

  it('creates the runner with the fleet tags and settings and writes its token only to the token secret', async () => {
    const result = await handler(event('Create'));

    expect(result.Status).toBe('SUCCESS');
    const [runner] = gitlab.runners;
    expect(runner).toMatchObject({
      runner_type: 'group_type',
      group_id: 321,
      description: 'gitlab-runner-fleet spotty (spot) in 123456789012/eu-west-1',
      tag_list: ['computetype-spot', 'arm64', 'docker'],
      run_untagged: false,
      maximum_timeout: 3600,
    });
    expect(secretStore.get(TOKEN_SECRET)).toBe(runner.token);
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: 'gitlab-runner-fleet-spotty-spot-runner',
        Data: { RunnerId: String(runner.id) },
        RequestId: 'req-Create',
        LogicalResourceId: 'SpotRunner',
      }),
    ]);
  });

  it('updates tags in place on a config change, keeping the runner and its token', async () => {
    await handler(event('Create'));
    const [runner] = gitlab.runners;
    const token = runner.token;
    const changed = properties({ TagList: ['computetype-spot', 'arm64', 'docker', 'large'] });

    const result = await handler(event('Update', changed, properties()));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.runners).toHaveLength(1);
    expect(gitlab.runners[0]).toMatchObject({ id: runner.id, token, tag_list: ['computetype-spot', 'arm64', 'docker', 'large'] });
    expect(secretStore.get(TOKEN_SECRET)).toBe(token);
    expect(gitlab.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('asks GitLab nothing on an update whose properties did not change', async () => {
    await handler(event('Create'));
    const before = gitlab.requests.length;

    const result = await handler(event('Update', properties(), properties({ ServiceToken: 'arn:other' })));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.requests.length).toBe(before);
  });

  it('deletes the runner with all its managers when the stack is deleted', async () => {
    await handler(event('Create'));
    const [runner] = gitlab.runners;
    gitlab.addManager(runner, 's_000000000001');
    gitlab.addManager(runner, 's_000000000002');

    const result = await handler(event('Delete'));

    expect(result).toMatchObject({ Status: 'SUCCESS', Data: { RunnerId: String(runner.id) } });
    expect(gitlab.runners).toEqual([]);
    expect(gitlab.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/v4/runners/${runner.id}`]);
  });

  it('succeeds on delete when the runner was already deleted by hand', async () => {
    await handler(event('Create'));
    gitlab.runners.splice(0, 1);

    const result = await handler(event('Delete'));

    expect(result.Status).toBe('SUCCESS');
    expect(responses.at(-1)).toMatchObject({ Status: 'SUCCESS' });
  });

  it('succeeds on delete when the runner was never created (placeholder in the secret)', async () => {
    const result = await handler(event('Delete'));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.requests).toEqual([]);
  });

  it('fails with a reason naming the missing scope when the access token cannot create runners', async () => {
    gitlab.allowApiToken(accessToken, ['read_api']);

    const result = await handler(event('Create'));

    expect(result.Status).toBe('FAILED');
    expect(responses[0].Reason).toMatch(/insufficient_scope: the access token needs the scope create_runner or api/);
    expect(responses[0].Reason).toContain(`the access token in secret ${ACCESS_SECRET} lacks a scope: it needs create_runner`);
    expect(secretStore.get(TOKEN_SECRET)).toBe('placeholder written at creation');
  });

  it('fails naming the minimum GitLab version when the endpoint does not exist', async () => {
    gitlab.legacyVersion = true;

    const result = await handler(event('Create', properties({ RunnerType: 'instance_type', Namespace: '' })));

    expect(result.Status).toBe('FAILED');
    expect(result.Reason).toContain('older than 15.10 (this fleet needs GitLab 17.1 or later)');
  });

  it('retries 5xx and a 429, waiting as long as Retry-After asks', async () => {
    gitlab.inject({ kind: 'status', status: 503, times: 1, path: /user\/runners/ });
    gitlab.inject({ kind: 'status', status: 429, times: 1, retryAfter: '12', path: /user\/runners/ });

    const result = await handler(event('Create'));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.requests.filter((r) => r.path === '/api/v4/user/runners').map((r) => r.status)).toEqual([503, 429, 201]);
    expect(sleeps[1]).toBe(12_000);
  });

  it('adopts the runner its secret already names instead of creating a second one (a retried create)', async () => {
    await handler(event('Create'));

    await handler(event('Create'));

    expect(gitlab.runners).toHaveLength(1);
  });

  it('answers FAILED before the Lambda timeout when GitLab hangs', async () => {
    gitlab.inject({ kind: 'hang', times: 10, path: /user\/runners/ });
    const quick = createRunnerResourceHandler(() => ({
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 5000, maxAttempts: 1 }),
      secrets,
      answerMarginMs: 0,
    }));

    const result = await quick(event('Create'), { getRemainingTimeInMillis: () => 200 });

    expect(result.Status).toBe('FAILED');
    expect(responses[0]).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('did not answer in time') });
  });

  it('creates a runner of the new type when the scope changes, keeping the old one for the running instances', async () => {
    await handler(event('Create'));
    const [old] = gitlab.runners;
    const instanceScope = properties({ RunnerType: 'instance_type', Namespace: '' });

    const result = await handler(event('Update', instanceScope, properties()));

    expect(result.Status).toBe('SUCCESS');
    expect(gitlab.runners.map((r) => r.runner_type)).toEqual(['group_type', 'instance_type']);
    expect(secretStore.get(TOKEN_SECRET)).toBe(gitlab.runners[1].token);
    expect(logs.join('\n')).toContain(`"oldRunnerId":${old.id}`);
  });

  it('fails with the property at fault on malformed properties', async () => {
    const result = await handler(event('Create', properties({ MaximumTimeout: 'soon' })));

    expect(result.Status).toBe('FAILED');
    expect(result.Reason).toContain('MaximumTimeout must be whole seconds');
  });
});
