/**
 * The scheduled token rotation's shell: one step per invocation of the fleet's rotation
 * workflow (lib/fleet/token-rotation.ts). `start` creates the new runner(s), writes their
 * tokens into the fleet's secrets and starts the instance refresh; `check` looks at the refresh
 * and deletes each old runner once its last manager is gone. Tokens stay between GitLab and
 * Secrets Manager: the answer holds ids only, and log lines and errors (which Step Functions
 * records as the failure cause) are scrubbed of every token the invocation saw.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitLabRunnerClient } from '../../gitlab/client';
import { GitLabApiError, redactSecrets } from '../../gitlab/errors';
import { GITLAB_FEATURES, requireGitLabVersion } from '../../gitlab/version';
import { advanceRotation, beginRotation, type RotationTarget, type TokenRotationPorts } from '../../rotation/token-rotation';
import { instanceRefreshStatus, startRotationRefresh } from '../shared/instance-refresh';
import { HANDLER_CONFIG_FILE, parseHandlerConfig, type HandlerConfig } from '../shared/handler-config';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { tokenFromSecretString } from '../shared/secrets';
import { parseRotationEvent, scheduledState, stepResult, type RotationStepResult } from './core';

export interface TokenRotationDeps {
  readonly config: HandlerConfig;
  readonly gitlab: GitLabRunnerClient;
  readonly secrets: SecretsManagerClient;
  readonly autoScaling: AutoScalingClient;
  /** @default the system clock */
  readonly now?: () => Date;
  /** @default JSON lines on stdout/stderr, scrubbed of the given secrets */
  readonly logger?: (secrets: () => readonly string[]) => Logger;
}

/** Builds the handler around its dependencies. */
export function createTokenRotationHandler(deps: () => TokenRotationDeps): (event: unknown) => Promise<RotationStepResult> {
  return async (event) => {
    const d = deps();
    const seen: string[] = [];
    const log = (d.logger ?? jsonLogger)(() => seen);
    const rotation = d.config.rotation;
    try {
      if (!rotation) throw new Error(`${HANDLER_CONFIG_FILE} has no rotation section`);
      const result = await runStep(parseRotationEvent(event), rotation.target, rotation.timeoutMinutes, d, seen, log);
      log(result.phase === 'failed' ? 'error' : 'info', result.message, {
        fleet: rotation.target.fleetName,
        phase: result.phase,
        refreshId: result.rotation.refreshId,
      });
      return result;
    } catch (error) {
      // Step Functions keeps the error message as the execution's failure cause: scrub it too.
      const reason = redactSecrets(errorMessage(error), seen);
      log('error', 'token rotation step failed; the old runners and tokens keep working', { fleet: rotation?.target.fleetName, reason });
      throw new Error(reason);
    }
  };
}

async function runStep(
  event: ReturnType<typeof parseRotationEvent>,
  target: RotationTarget,
  timeoutMinutes: number,
  d: TokenRotationDeps,
  seen: string[],
  log: Logger,
): Promise<RotationStepResult> {
  const now = d.now ?? (() => new Date());
  const readSecret = async (secretId: string) => {
    const out = await d.secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString) seen.push(out.SecretString.trim());
    return tokenFromSecretString(secretId, out.SecretString);
  };
  const accessToken = await readSecret(target.accessTokenSecretName);
  seen.push(accessToken);
  const ports: TokenRotationPorts = {
    gitlab: d.gitlab,
    accessToken,
    readRunnerToken: (runner) => readSecret(runner.tokenSecretName),
    writeSecret: async (secretId, token) => {
      await d.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: token }));
    },
    remember: (token) => seen.push(token),
    startInstanceRefresh: (groupName, minHealthyPercentage) => startRotationRefresh(d.autoScaling, groupName, minHealthyPercentage),
    refreshStatus: (groupName, refreshId) => instanceRefreshStatus(d.autoScaling, groupName, refreshId),
    log: (line) => log('info', line, { fleet: target.fleetName }),
    gitlabError: (error) =>
      error instanceof GitLabApiError && (error.status === 401 || error.status === 403)
        ? new Error(
            `${error.message}: the access token in secret ${target.accessTokenSecretName} is ${error.status === 401 ? 'invalid, expired or revoked' : 'missing the create_runner and manage_runner scopes or the role to manage these runners'}`,
          )
        : error,
  };
  if (event.action === 'start') {
    // Before creating anything: a GitLab too old for the runner endpoints fails here, in one line.
    await requireGitLabVersion(
      d.gitlab,
      accessToken,
      [GITLAB_FEATURES.runnerCreation, GITLAB_FEATURES.runnerManagers],
      (message) => log('warn', message, { fleet: target.fleetName }),
      d.gitlab.baseUrl,
    );
    const state = scheduledState(await beginRotation(target, ports), now(), timeoutMinutes);
    return { phase: 'refreshing', rotation: state, message: `${target.fleetName}: instance refresh ${state.refreshId} started` };
  }
  const step = await advanceRotation(target, event.rotation, ports);
  return stepResult(target, { ...event.rotation, ...step.state }, step.progress, now());
}

let runtime: TokenRotationDeps | undefined;

/** The Lambda entry point. */
export const handler = createTokenRotationHandler(() => {
  runtime ??= (() => {
    const config = parseHandlerConfig(readFileSync(join(__dirname, HANDLER_CONFIG_FILE), 'utf8'));
    return {
      config,
      gitlab: new GitLabRunnerClient({ baseUrl: config.gitlabUrl, timeoutMs: 10_000, maxAttempts: 5 }),
      secrets: new SecretsManagerClient({}),
      autoScaling: new AutoScalingClient({}),
    };
  })();
  return runtime;
});
