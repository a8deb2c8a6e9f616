/**
 * The GitLab job-events webhook behind a Lambda function URL: refuses oversized bodies, checks
 * X-Gitlab-Token in constant time against a Secrets Manager secret, answers within
 * milliseconds and leaves the scaling to the scaler: a job that changes a fleet's demand
 * becomes one SQS message, and the scaler takes them in batches, so a burst of 1,000 events
 * becomes a few scaling calls, not 1,000.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMAND_METRICS } from '../../identity/demand-metrics';
import type { DemandHandlerConfig } from '../shared/demand-config';
import { fleetMetricRecord } from '../shared/emf';
import { HANDLER_CONFIG_FILE, parseHandlerConfig } from '../shared/handler-config';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { tokenFromSecretString } from '../shared/secrets';
import { judgeWebhook, MAX_WEBHOOK_BODY_BYTES } from './core';

export interface WebhookDeps {
  readonly config: DemandHandlerConfig;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly secrets: SecretsManagerClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** How long the expected token is reused before it is read again (rotation). @default 300000 */
  readonly secretTtlMs?: number;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: Logger;
  /** Where EMF metric records go. @default console.log */
  readonly metrics?: (record: Record<string, unknown>) => void;
}

type Handler = (event: LambdaFunctionURLEvent) => Promise<LambdaFunctionURLResult>;

/** Builds the function URL handler; the expected token is cached per container for `secretTtlMs`. */
export function createWebhookHandler(deps: () => WebhookDeps): Handler {
  let cached: { token: string; at: number } | undefined;
  return async (event) => {
    const d = deps();
    const now = d.now ?? Date.now;
    const log = d.logger ?? jsonLogger(() => (cached ? [cached.token] : []));
    const rawLength = event.body?.length ?? 0;
    // Refused before decoding or reading the secret: an oversized body costs nothing.
    if (rawLength > (MAX_WEBHOOK_BODY_BYTES * 4) / 3 + 4) return reply(413, 'payload too large');
    const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    try {
      if (!cached || now() - cached.at > (d.secretTtlMs ?? 300_000)) {
        const out = await d.secrets.send(new GetSecretValueCommand({ SecretId: d.config.webhookSecretName }));
        cached = { token: tokenFromSecretString(d.config.webhookSecretName, out.SecretString), at: now() };
      }
    } catch (error) {
      log('error', 'could not read the webhook secret', { error: errorMessage(error), outcome: 'failed' });
      return reply(503, 'try again');
    }
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const verdict = judgeWebhook({ headers, body }, cached.token, d.config);
    if (verdict.kind === 'reject') {
      log('warn', 'webhook request refused', { status: verdict.status, reason: verdict.reason, outcome: 'refused' });
      return reply(verdict.status, verdict.reason);
    }
    if (verdict.kind === 'ignore') return reply(202, verdict.reason);
    const { signal } = verdict;
    if (verdict.timeToStartSeconds !== undefined) {
      (d.metrics ?? ((r) => console.log(JSON.stringify(r))))(
        fleetMetricRecord(
          signal.fleet,
          { [DEMAND_METRICS.timeToStart]: verdict.timeToStartSeconds },
          { [DEMAND_METRICS.timeToStart]: 'Seconds' },
          now(),
        ),
      );
    }
    try {
      await d.sqs.send(new SendMessageCommand({ QueueUrl: d.queueUrl, MessageBody: JSON.stringify(signal) }));
    } catch (error) {
      // 5xx: GitLab retries failed webhook deliveries, so the event is not lost.
      log('error', 'could not queue the job signal', {
        fleet: signal.fleet,
        jobId: signal.jobId,
        error: errorMessage(error),
        outcome: 'failed',
      });
      return reply(503, 'try again');
    }
    return reply(202, 'queued');
  };
}

function reply(statusCode: number, message: string): LambdaFunctionURLResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

let defaults: WebhookDeps | undefined;

function runtimeDeps(): WebhookDeps {
  if (!defaults) {
    const config = parseHandlerConfig(readFileSync(join(__dirname, HANDLER_CONFIG_FILE), 'utf8'));
    if (!config.demand) throw new Error(`${HANDLER_CONFIG_FILE}: demand is missing`);
    const queueUrl = process.env.DEMAND_QUEUE_URL;
    if (!queueUrl) throw new Error('DEMAND_QUEUE_URL is not set');
    defaults = { config: config.demand, queueUrl, sqs: new SQSClient({}), secrets: new SecretsManagerClient({}) };
  }
  return defaults;
}

/** Lambda entry point. */
export const handler = createWebhookHandler(runtimeDeps);
