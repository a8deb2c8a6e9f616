import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_BODY_BYTES, tokenMatches } from '../../lib/lambda/demand-webhook/core';
import { createWebhookHandler } from '../../lib/lambda/demand-webhook/handler';
import type { LoopbackServer } from '../support/loopback-server';
import { startFunctionUrl } from '../support/function-url';
import { DEMAND_CONFIG, jobEvent, webhookToken } from './demand-fixtures';

const QUEUE_URL = 'https://sqs.eu-central-1.amazonaws.com/123456789012/demand';

describe('demand webhook over a function URL', () => {
  const sqs = new SQSClient({ region: 'eu-central-1' });
  const secrets = new SecretsManagerClient({ region: 'eu-central-1' });
  const sqsMock = mockClient(sqs);
  const secretsMock = mockClient(secrets);
  let server: LoopbackServer;
  let token: string;
  let logs: string[];
  let metrics: Array<Record<string, unknown>>;

  beforeEach(async () => {
    sqsMock.reset();
    secretsMock.reset();
    token = webhookToken();
    secretsMock.on(GetSecretValueCommand, { SecretId: 'gitlab-runner-fleet/webhook-token' }).resolves({ SecretString: token });
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    logs = [];
    metrics = [];
    const handler = createWebhookHandler(() => ({
      config: DEMAND_CONFIG,
      sqs,
      secrets,
      queueUrl: QUEUE_URL,
      logger: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
      metrics: (record) => metrics.push(record),
    }));
    server = await startFunctionUrl(handler);
  });

  afterEach(async () => {
    await server.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Job Hook', 'x-gitlab-token': token, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('queues a pending job whose tags the spot fleet carries', async () => {
    const response = await post(jobEvent(101, 'pending', ['computetype-spot', 'arm64']));

    expect(response.status).toBe(202);
    const sent = sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([
      { QueueUrl: QUEUE_URL, MessageBody: JSON.stringify({ fleet: 'graviton-spot', jobId: 101, status: 'pending', rank: 1 }) },
    ]);
  });

  it('routes a computetype-ondemand job to the on-demand fleet', async () => {
    await post(jobEvent(102, 'pending', ['computetype-ondemand']));

    expect(JSON.parse(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input.MessageBody!)).toMatchObject({
      fleet: 'graviton-ondemand',
    });
  });

  it('answers 401 to a wrong X-Gitlab-Token and queues nothing', async () => {
    const response = await post(jobEvent(103, 'pending', ['arm64']), { 'x-gitlab-token': `${token}x` });

    expect(response.status).toBe(401);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('answers 401 when X-Gitlab-Token is missing', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Job Hook' },
      body: JSON.stringify(jobEvent(104, 'pending', ['arm64'])),
    });

    expect(response.status).toBe(401);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('rejects an oversized body with 413 before reading the secret', async () => {
    const response = await post(jobEvent(105, 'pending', ['arm64'], { padding: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES * 2) }));

    expect(response.status).toBe(413);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('ignores a job whose tags match no fleet', async () => {
    const response = await post(jobEvent(106, 'pending', ['arm64', 'gpu']));

    expect(response.status).toBe(202);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('ignores an untagged job (no fleet is told to run untagged jobs)', async () => {
    await post(jobEvent(107, 'pending', []));

    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('ignores events other than job events', async () => {
    const response = await post({ object_kind: 'push' }, { 'x-gitlab-event': 'Push Hook' });

    expect(response.status).toBe(202);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('answers 400 to a body that is not JSON', async () => {
    expect((await post('{not json')).status).toBe(400);
  });

  it('records the time to start of a running job as a fleet metric', async () => {
    await post(jobEvent(108, 'running', ['computetype-spot']));

    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({ Fleet: 'graviton-spot', TimeToStartSeconds: 42.5 });
  });

  it('answers 503 when the queue refuses, so GitLab retries the delivery', async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error('throttled'));

    expect((await post(jobEvent(109, 'pending', ['arm64']))).status).toBe(503);
  });

  it('never logs the webhook token', async () => {
    await post(jobEvent(110, 'pending', ['arm64']), { 'x-gitlab-token': 'wrong' });
    await post(jobEvent(111, 'pending', ['arm64']));

    expect(logs.join('\n')).not.toContain(token);
  });

  it('reads the secret once for a burst of events', async () => {
    for (let i = 0; i < 20; i++) await post(jobEvent(200 + i, 'pending', ['arm64']));

    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});

describe('tokenMatches', () => {
  it('is true only for the same token', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
  });

  it('refuses an empty token even against an empty secret', () => {
    expect(tokenMatches('', '')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
  });
});
