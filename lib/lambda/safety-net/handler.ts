/**
 * The safety net's shell: reads EventBridge events from SQS, asks EC2 about the instance,
 * lets the pure core decide, then deletes the runner manager in GitLab and completes the
 * lifecycle action via the AWS SDK. Records that fail are reported as batch item failures,
 * so SQS retries them later and sends them to the dead-letter queue (with an alarm) after
 * the queue's maxReceiveCount.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { GitLabRunnerClient } from '../../gitlab/client';
import type { DeleteManagerResult } from '../../gitlab/types';
import type { HandlerConfig } from '../shared/handler-config';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { withCurrentFleets, type FleetSource } from '../shared/fleet-source';
import { runtimeClients } from '../shared/runtime';
import type { TokenSource } from '../shared/secrets';
import { fleetMetricRecord } from '../shared/emf';
import { HEALTH_METRICS } from '../../identity/health-metrics';
import {
  decideSafetyNet,
  orphanedJobs,
  needsInstanceFacts,
  parseSafetyNetEvent,
  type InstanceFacts,
  type InstanceState,
  type LifecycleCompletion,
} from './core';

export interface SafetyNetDeps {
  readonly config: HandlerConfig;
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly gitlab: GitLabRunnerClient;
  /** A fresh token source per invocation, so rotated tokens are picked up. */
  readonly tokens: () => TokenSource;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: (tokens: TokenSource) => Logger;
  /** Where EMF metric lines go. @default console.log */
  readonly metrics?: (line: string) => void;
  /**
   * Lists the fleets at each invocation (the fleet registry).
   * @default - the fleets in `config`
   */
  readonly fleetSource?: FleetSource;
}

export type LifecycleResult = 'completed' | 'already-completed';

const GROUP_TAG = 'aws:autoscaling:groupName';

/** Builds the SQS handler around its dependencies. */
export function createSafetyNetHandler(deps: () => SafetyNetDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const base = deps();
    const tokens = base.tokens();
    const log = base.logger ? base.logger(tokens) : jsonLogger(() => tokens.known());
    const d = { ...base, config: await withCurrentFleets(base.config, base.fleetSource, log) };
    const results = await Promise.all(event.Records.map((record) => handleRecord(record, d, tokens, log)));
    return { batchItemFailures: event.Records.filter((_r, i) => !results[i]).map((r) => ({ itemIdentifier: r.messageId })) };
  };
}

/** Handles one SQS record; true when it is done with (success or deliberately ignored). */
async function handleRecord(record: SQSRecord, deps: SafetyNetDeps, tokens: TokenSource, log: Logger): Promise<boolean> {
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    log('error', 'message body is not JSON; leaving it for the dead-letter queue', { messageId: record.messageId, outcome: 'failed' });
    return false;
  }
  const event = parseSafetyNetEvent(body);
  if (event.kind === 'unsupported') {
    log('info', event.reason, { messageId: record.messageId, outcome: 'ignored' });
    return true;
  }
  const base = { messageId: record.messageId, event: event.kind, instanceId: event.instanceId, receiveCount };
  try {
    const facts = needsInstanceFacts(event) ? await describeInstance(deps.ec2, event.instanceId) : undefined;
    const plan = decideSafetyNet(event, deps.config, facts, { receiveCount });
    const fields = { ...base, fleet: plan.fleet?.name, systemId: plan.systemId, instanceState: facts?.state, reason: plan.reason };
    if (plan.retryLater) {
      log('info', 'not yet; will look again', { ...fields, outcome: plan.outcome });
      return false;
    }
    let manager: DeleteManagerResult | undefined;
    let managerError: unknown;
    // The token secret of the runner the machine was a manager of: its jobs are that runner's.
    let runnerTokenSecretName = plan.fleet?.tokenSecretName;
    if (plan.deleteManager && plan.fleet && plan.systemId) {
      try {
        const token = await tokens.token(plan.fleet.tokenSecretName);
        manager = await deps.gitlab.deleteRunnerManager(token, plan.systemId);
        // A mixed fleet's on-demand instances register with the second runner.
        if (manager === 'already-gone' && plan.fleet.onDemandTokenSecretName) {
          manager = await deps.gitlab.deleteRunnerManager(await tokens.token(plan.fleet.onDemandTokenSecretName), plan.systemId);
          if (manager === 'deleted') runnerTokenSecretName = plan.fleet.onDemandTokenSecretName;
        }
      } catch (error) {
        managerError = error;
      }
    }
    // The instance is gone either way: holding its lifecycle action would only delay the group.
    const lifecycle = plan.completeLifecycle ? await completeLifecycleAction(deps.autoScaling, plan.completeLifecycle) : undefined;
    if (managerError !== undefined) {
      // One datapoint per failed attempt: SQS retries, then the dead-letter queue (alarmed) takes it.
      if (plan.fleet) emitMetrics(deps, plan.fleet.name, { [HEALTH_METRICS.deregistrationFailures]: 1 });
      log('error', 'could not delete the runner manager; will retry', {
        ...fields,
        lifecycle,
        outcome: 'failed',
        error: errorMessage(managerError),
      });
      return false;
    }
    const jobs =
      manager && plan.fleet && plan.systemId && runnerTokenSecretName
        ? await requeueOrphanedJobs(deps, tokens, log, { name: plan.fleet.name, tokenSecretName: runnerTokenSecretName }, plan.systemId)
        : undefined;
    log('info', 'handled', { ...fields, manager, lifecycle, requeuedJobs: jobs, outcome: plan.outcome });
    return true;
  } catch (error) {
    log('error', 'failed; will retry', { ...base, outcome: 'failed', error: errorMessage(error) });
    return false;
  }
}

/**
 * After the manager is gone: cancels and retries, once each, the jobs GitLab still shows running on
 * that machine (lost in the graceful-stop race, gitlab-runner work item 39847), so they run elsewhere
 * now instead of failing at their timeout. Needs the orphan reaper's API token (api scope, Developer
 * on the projects); without one nothing is done. Problems are logged, never retried: the manager is
 * deleted either way, and GitLab's own timeout remains the backstop.
 */
async function requeueOrphanedJobs(
  deps: SafetyNetDeps,
  tokens: TokenSource,
  log: Logger,
  fleet: { name: string; tokenSecretName: string },
  systemId: string,
): Promise<number | undefined> {
  const secret = deps.config.apiTokenSecretName;
  if (!secret) return undefined;
  const fields = { fleet: fleet.name, systemId };
  let requeued = 0;
  try {
    const apiToken = await tokens.token(secret);
    const { id: runnerId } = await deps.gitlab.verifyRunner(await tokens.token(fleet.tokenSecretName));
    for (const job of orphanedJobs(await deps.gitlab.listRunningJobs(runnerId, systemId, apiToken), systemId)) {
      try {
        await deps.gitlab.cancelJob(job.project!.id, job.id, apiToken);
        const retry = await deps.gitlab.retryJob(job.project!.id, job.id, apiToken);
        requeued += 1;
        log('warn', 'job orphaned by the graceful-stop race: canceled and retried', {
          ...fields,
          jobId: job.id,
          retryJobId: retry.id,
          outcome: 'requeued',
        });
      } catch (error) {
        log('error', 'could not cancel and retry an orphaned job; it fails at its timeout', {
          ...fields,
          jobId: job.id,
          error: errorMessage(error),
        });
      }
    }
  } catch (error) {
    log('error', 'could not look for orphaned jobs; any there fail at their timeout', { ...fields, error: errorMessage(error) });
  }
  if (requeued > 0) emitMetrics(deps, fleet.name, { [HEALTH_METRICS.orphanedJobsRequeued]: requeued });
  return requeued;
}

function emitMetrics(deps: SafetyNetDeps, fleetName: string, values: Readonly<Record<string, number>>): void {
  (deps.metrics ?? console.log)(JSON.stringify(fleetMetricRecord(fleetName, values)));
}

/** The instance's state and group tag; `not-found` once EC2 has forgotten it. */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<InstanceFacts> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    if (!instance) return { state: 'not-found' };
    return {
      state: (instance.State?.Name ?? 'not-found') as InstanceState,
      groupName: instance.Tags?.find((t) => t.Key === GROUP_TAG)?.Value,
    };
  } catch (error) {
    if ((error as { name?: string }).name === 'InvalidInstanceID.NotFound') return { state: 'not-found' };
    throw error;
  }
}

/** Completes the action with CONTINUE; an action that is no longer pending was completed by someone else. */
export async function completeLifecycleAction(autoScaling: AutoScalingClient, action: LifecycleCompletion): Promise<LifecycleResult> {
  try {
    await autoScaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: action.groupName,
        LifecycleHookName: action.hookName,
        InstanceId: action.instanceId,
        LifecycleActionToken: action.lifecycleActionToken,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    return 'completed';
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /no active lifecycle action/i.test(e.message ?? '')) return 'already-completed';
    throw error;
  }
}

let defaults: SafetyNetDeps | undefined;

/** Dependencies in the Lambda runtime: config file beside the bundle, clients reused across invocations. */
function runtimeDeps(): SafetyNetDeps {
  defaults ??= runtimeClients(__dirname, 5000);
  return defaults;
}

/** Lambda entry point. */
export const handler = createSafetyNetHandler(runtimeDeps);
