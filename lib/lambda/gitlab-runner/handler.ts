/**
 * The `gitlab-runner` custom resource's shell: a plain CloudFormation custom resource (the
 * Lambda is the service token and answers the pre-signed response URL itself). It creates,
 * updates and deletes one GitLab runner object and writes its glrt- token straight into the
 * fleet's token secret. The token never leaves that path: not in the response (Data holds the
 * runner id only), not in the physical id, not in a log line or failure reason (both are
 * scrubbed of every token the invocation saw).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { GitLabApiError, redactSecrets } from '../../gitlab/errors';
import { GitLabRunnerClient } from '../../gitlab/client';
import type { RunnerDetails } from '../../gitlab/types';
import { GITLAB_FEATURES, requireGitLabVersion } from '../../gitlab/version';
import { putCloudFormationResponse, responseDocument, settleBeforeTimeout } from '../shared/cfn-response';
import { jsonLogger, type Logger } from '../shared/log';
import { HANDLER_CONFIG_FILE, parseHandlerConfig } from '../shared/handler-config';
import { tokenFromSecretString } from '../shared/secrets';
import { convergeAction, failureReason, physicalResourceId, planRunnerRequest, type RunnerResourceProperties } from './core';

export interface RunnerResourceDeps {
  readonly gitlab: GitLabRunnerClient;
  readonly secrets: SecretsManagerClient;
  /** @default JSON lines on stdout/stderr, scrubbed of the given secrets */
  readonly logger?: (secrets: () => readonly string[]) => Logger;
  /** PUTs the response document to the pre-signed URL. @default fetch */
  readonly respond?: (url: string, body: string) => Promise<void>;
  /** Time kept back from the Lambda timeout to answer FAILED before being killed, in ms. @default 10000 */
  readonly answerMarginMs?: number;
}

export interface RunnerResourceResult {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly RunnerId: string };
}

/** Builds the handler around its dependencies; it always answers CloudFormation, also on failure or near the timeout. */
export function createRunnerResourceHandler(
  deps: () => RunnerResourceDeps,
): (event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<RunnerResourceResult> {
  return async (event, context) => {
    const d = deps();
    const seen: string[] = [];
    const log = (d.logger ?? jsonLogger)(() => seen);
    const fallbackId =
      'PhysicalResourceId' in event && event.PhysicalResourceId ? event.PhysicalResourceId : `gitlab-runner-${event.LogicalResourceId}`;
    const work = runRequest(event, d, seen, log).catch((error: unknown): RunnerResourceResult => {
      const reason = redactSecrets(error instanceof Error ? error.message : String(error), seen);
      log('error', 'gitlab-runner request failed', { requestType: event.RequestType, reason });
      return { Status: 'FAILED', Reason: reason, PhysicalResourceId: fallbackId };
    });
    const result = await settleBeforeTimeout(work, context?.getRemainingTimeInMillis?.(), d.answerMarginMs ?? 10_000, () => ({
      Status: 'FAILED' as const,
      Reason: 'GitLab did not answer in time; see the function logs. Nothing was written to the token secret after this point.',
      PhysicalResourceId: fallbackId,
    }));
    const reason = result.Reason === undefined ? undefined : redactSecrets(result.Reason, seen);
    const body = responseDocument(event, { ...result, Reason: reason }, { NoEcho: true });
    await (d.respond ?? putCloudFormationResponse)(event.ResponseURL, body);
    log('info', 'answered CloudFormation', { requestType: event.RequestType, status: result.Status, runnerId: result.Data?.RunnerId });
    return result;
  };
}

async function runRequest(
  event: CloudFormationCustomResourceEvent,
  d: RunnerResourceDeps,
  seen: string[],
  log: Logger,
): Promise<RunnerResourceResult> {
  const plan = planRunnerRequest(event);
  if (plan.kind === 'unchanged') {
    log('info', 'properties unchanged; nothing to do', { requestType: event.RequestType });
    return { Status: 'SUCCESS', PhysicalResourceId: (event as { PhysicalResourceId: string }).PhysicalResourceId };
  }
  const { props } = plan;
  const id = physicalResourceId(props);
  const secretValue = async (secretId: string) => {
    const out = await d.secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString) seen.push(out.SecretString.trim());
    return out.SecretString;
  };
  const accessToken = tokenFromSecretString(props.accessTokenSecretId, await secretValue(props.accessTokenSecretId));
  seen.push(accessToken);
  const gitlab = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof GitLabApiError) throw new Error(failureReason(error, props));
      throw error;
    }
  };
  const fields = { fleet: props.fleetName, computeType: props.computeType };
  if (plan.kind === 'converge') {
    // Before creating or updating: a GitLab too old for the endpoints fails here with one line naming the versions.
    await requireGitLabVersion(
      d.gitlab,
      accessToken,
      [GITLAB_FEATURES.runnerCreation],
      (message) => log('warn', message, fields),
      d.gitlab.baseUrl,
    );
  }
  const current = await currentRunner(d, props, accessToken, await secretValue(props.tokenSecretId).catch(() => undefined));

  if (plan.kind === 'delete') {
    if (!current) {
      log('info', 'no runner in the token secret (never created, or deleted by hand); nothing to delete', fields);
      return { Status: 'SUCCESS', PhysicalResourceId: id };
    }
    const outcome = await gitlab(() => d.gitlab.deleteRunner(accessToken, current.id));
    log('info', `runner ${outcome}`, { ...fields, runnerId: current.id, outcome });
    return { Status: 'SUCCESS', PhysicalResourceId: id, Data: { RunnerId: String(current.id) } };
  }

  const action = convergeAction(props, current);
  if (action.kind === 'in-sync') {
    log('info', 'runner already matches the configuration', { ...fields, runnerId: action.id });
    return { Status: 'SUCCESS', PhysicalResourceId: id, Data: { RunnerId: String(action.id) } };
  }
  if (action.kind === 'update') {
    await gitlab(() => d.gitlab.updateRunner(accessToken, action.id, props.settings));
    log('info', 'runner updated in place; its token is unchanged', { ...fields, runnerId: action.id, tags: props.settings.tag_list });
    return { Status: 'SUCCESS', PhysicalResourceId: id, Data: { RunnerId: String(action.id) } };
  }
  if (current) {
    // The scope changed: a runner cannot change its type, and instances still use the old one.
    log('warn', 'creating a runner of the configured type; delete the old runner once the fleet has rolled', {
      ...fields,
      oldRunnerId: current.id,
      oldRunnerType: current.runner_type,
    });
  }
  const namespaceId =
    props.runnerType === 'instance_type' || props.namespace === undefined
      ? undefined
      : await gitlab(() => d.gitlab.namespaceId(accessToken, props.runnerType === 'group_type' ? 'group' : 'project', props.namespace!));
  const created = await gitlab(() => d.gitlab.createRunner(accessToken, props.runnerType, namespaceId, props.settings));
  seen.push(created.token);
  await d.secrets.send(new PutSecretValueCommand({ SecretId: props.tokenSecretId, SecretString: created.token }));
  log('info', 'runner created; its token is in the token secret', {
    ...fields,
    runnerId: created.id,
    tokenSecret: props.tokenSecretId,
    tags: props.settings.tag_list,
  });
  return { Status: 'SUCCESS', PhysicalResourceId: id, Data: { RunnerId: String(created.id) } };
}

/** The runner the token secret names, or undefined when it holds no valid runner token (placeholder, deleted runner). */
async function currentRunner(
  d: RunnerResourceDeps,
  props: RunnerResourceProperties,
  accessToken: string,
  secretString: string | undefined,
): Promise<RunnerDetails | undefined> {
  const token = secretString?.trim() ?? '';
  if (!token.startsWith('glrt-')) return undefined;
  let runnerId: number;
  try {
    runnerId = (await d.gitlab.verifyRunner(token)).id;
  } catch (error) {
    // GitLab answers 403 (or 401/404) to a token whose runner is gone.
    if (error instanceof GitLabApiError && error.status !== undefined && error.status >= 400 && error.status < 500) return undefined;
    throw error;
  }
  try {
    return await d.gitlab.getRunner(accessToken, runnerId);
  } catch (error) {
    if (error instanceof GitLabApiError && error.status === 404) return undefined;
    if (error instanceof GitLabApiError) throw new Error(failureReason(error, props));
    throw error;
  }
}

let runtime: RunnerResourceDeps | undefined;

/** The Lambda entry point. */
export const handler = createRunnerResourceHandler(() => {
  runtime ??= (() => {
    const config = parseHandlerConfig(readFileSync(join(__dirname, HANDLER_CONFIG_FILE), 'utf8'));
    return {
      gitlab: new GitLabRunnerClient({ baseUrl: config.gitlabUrl, timeoutMs: 10_000, maxAttempts: 5 }),
      secrets: new SecretsManagerClient({}),
    };
  })();
  return runtime;
});
