/**
 * The demand scaler: takes job signals from the webhook's queue in batches (and runs on a
 * schedule for idle scale-in and missed events), reads the fleets' groups and instances, lets
 * the pure decision choose, then removes the chosen idle instances with
 * TerminateInstanceInAutoScalingGroup (decrementing desired capacity, so the group cannot pick
 * another) and sets desired capacity with SetDesiredCapacity. Per invocation: one
 * DescribeAutoScalingGroups and one DescribeInstances per 50 fleets, and per fleet at most one
 * SetDesiredCapacity, whatever the number of events in the batch.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSY_TAGS, DEMAND_METRICS } from '../../identity/demand-metrics';
import type { FleetInstance } from '../../scaling/decide';
import type { DemandFleetTarget, DemandHandlerConfig } from '../shared/demand-config';
import { fleetMetricRecord } from '../shared/emf';
import { HANDLER_CONFIG_FILE, parseHandlerConfig } from '../shared/handler-config';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { decideForFleet, fleetInstance, parseSignal, queuedJobsByFleet } from './core';
import { UNTAGGED_PENDING, type JobSignal } from '../demand-webhook/core';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GitLabRunnerClient } from '../../gitlab/client';
import { listPendingJobs, type PendingJob } from '../../gitlab/pending-jobs';
import { fleetForJobTags } from '../shared/demand-config';
import { tokenFromSecretString } from '../shared/secrets';

export interface ScalerDeps {
  readonly config: DemandHandlerConfig;
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: Logger;
  /** Where EMF metric records go. @default console.log */
  readonly metrics?: (record: Record<string, unknown>) => void;
  /**
   * GitLab's pending jobs: of the given projects, or without them of the configured projects (or
   * the instance). @default - none (webhook only)
   */
  readonly poll?: (projectIds?: readonly number[]) => Promise<readonly PendingJob[]>;
  /** Whether scheduled ticks poll too (config `demand.poll.onTick`). @default true when `poll` is given */
  readonly pollOnTick?: boolean;
}

/** A scheduled EventBridge invocation: every fleet is looked at. */
export interface ScheduledTick {
  readonly 'detail-type': 'Scheduled Event';
}

const GROUP_TAG = 'aws:autoscaling:groupName';
/** DescribeAutoScalingGroups takes up to 100 names; DescribeInstances filter values are kept well under their limit too. */
const CHUNK = 50;

export function createScalerHandler(deps: () => ScalerDeps): (event: SQSEvent | ScheduledTick) => Promise<SQSBatchResponse> {
  return async (event) => {
    const d = deps();
    const log = d.logger ?? jsonLogger();
    const emit = d.metrics ?? ((record) => console.log(JSON.stringify(record)));
    const now = (d.now ?? Date.now)();
    const records = 'Records' in event ? event.Records : [];
    const signals: Array<{ messageId: string; signal: JobSignal }> = [];
    for (const record of records) {
      const signal = parseSignal(record.body);
      if (signal) signals.push({ messageId: record.messageId, signal });
      else log('warn', 'not a job signal; dropped', { messageId: record.messageId, outcome: 'ignored' });
    }
    const queued = queuedJobsByFleet(signals.map((s) => s.signal));
    // A pending job whose event named no tags (GitLab's documented payload has none) is placed by
    // polling GitLab's pending jobs now: one poll per batch, however many such events it holds.
    // Those events name their project, so only those projects are read.
    const untagged = queued.delete(UNTAGGED_PENDING);
    const eventProjects = [
      ...new Set(signals.flatMap(({ signal }) => (signal.fleet === UNTAGGED_PENDING && signal.projectId ? [signal.projectId] : []))),
    ];
    const tick = !('Records' in event);
    if (d.poll && ((tick && d.pollOnTick !== false) || untagged)) {
      try {
        const polled = new Map<string, number>();
        for (const job of await d.poll(!tick && eventProjects.length > 0 ? eventProjects : undefined)) {
          const fleet = fleetForJobTags(d.config, job.tagList);
          if (fleet) polled.set(fleet.name, (polled.get(fleet.name) ?? 0) + 1);
        }
        // The poll sees every pending job, the batch's tagged ones too: the larger count, not the sum.
        for (const [fleet, count] of polled) queued.set(fleet, Math.max(count, queued.get(fleet) ?? 0));
      } catch (error) {
        // Scaling goes on without the poll: busy slots and the schedule still decide.
        log('error', 'could not poll pending jobs', { error: errorMessage(error), outcome: 'failed' });
      }
    }
    const fleets = 'Records' in event ? d.config.fleets.filter((f) => queued.has(f.name)) : d.config.fleets;
    const failedFleets = new Set<string>();
    for (let i = 0; i < fleets.length; i += CHUNK) {
      const chunk = fleets.slice(i, i + CHUNK);
      try {
        await scaleChunk(chunk, queued, d, now, log, emit, failedFleets);
      } catch (error) {
        log('error', 'could not read the fleets; will retry', {
          fleets: chunk.map((f) => f.name),
          error: errorMessage(error),
          outcome: 'failed',
        });
        chunk.forEach((f) => failedFleets.add(f.name));
      }
    }
    return { batchItemFailures: signals.filter((s) => failedFleets.has(s.signal.fleet)).map((s) => ({ itemIdentifier: s.messageId })) };
  };
}

async function scaleChunk(
  fleets: readonly DemandFleetTarget[],
  queued: ReadonlyMap<string, number>,
  d: ScalerDeps,
  now: number,
  log: Logger,
  emit: (record: Record<string, unknown>) => void,
  failed: Set<string>,
): Promise<void> {
  const names = fleets.map((f) => f.autoScalingGroupName);
  const groups = await describeGroups(d.autoScaling, names);
  const tags = await describeBusyTags(d.ec2, names);
  for (const fleet of fleets) {
    const group = groups.get(fleet.autoScalingGroupName);
    if (!group) {
      log('warn', 'group not found; skipped', { fleet: fleet.name, outcome: 'ignored' });
      continue;
    }
    const instances = (group.Instances ?? [])
      .map((i) => fleetInstance(i.InstanceId ?? '', i.LifecycleState, tags.get(i.InstanceId ?? '') ?? {}))
      .filter((i): i is FleetInstance => i !== undefined);
    const currentDesired = group.DesiredCapacity ?? instances.length;
    const queuedJobs = queued.get(fleet.name) ?? 0;
    const decision = decideForFleet({ fleet, queuedJobs, instances, currentDesired }, now);
    const removed: string[] = [];
    let errors = 0;
    try {
      for (const instanceId of decision.remove) {
        await d.autoScaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }),
        );
        removed.push(instanceId);
      }
      if (decision.desiredCapacity !== currentDesired - removed.length) {
        await d.autoScaling.send(
          new SetDesiredCapacityCommand({
            AutoScalingGroupName: fleet.autoScalingGroupName,
            DesiredCapacity: decision.desiredCapacity,
            HonorCooldown: false,
          }),
        );
      }
    } catch (error) {
      errors++;
      failed.add(fleet.name);
      log('error', 'scaling call failed; will retry', { fleet: fleet.name, error: errorMessage(error), outcome: 'failed' });
    }
    const inService = instances.filter((i) => i.phase === 'in-service');
    emit(
      fleetMetricRecord(
        fleet.name,
        {
          [DEMAND_METRICS.queuedJobs]: queuedJobs,
          [DEMAND_METRICS.busySlots]: inService.reduce((sum, i) => sum + (i.busySlots ?? 0), 0),
          [DEMAND_METRICS.totalSlots]: inService.length * fleet.settings.concurrency,
          [DEMAND_METRICS.desiredCapacity]: decision.desiredCapacity,
          [DEMAND_METRICS.idleInstancesRemoved]: removed.length,
          [DEMAND_METRICS.scalingErrors]: errors,
        },
        {},
        now,
      ),
    );
    log('info', 'scaled', {
      fleet: fleet.name,
      reason: decision.reason,
      queuedJobs,
      from: currentDesired,
      to: decision.desiredCapacity,
      removed,
      outcome: errors > 0 ? 'failed' : 'done',
    });
  }
}

async function describeGroups(client: AutoScalingClient, names: readonly string[]): Promise<Map<string, AutoScalingGroup>> {
  const groups = new Map<string, AutoScalingGroup>();
  let token: string | undefined;
  do {
    const out = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [...names], NextToken: token }));
    for (const group of out.AutoScalingGroups ?? []) if (group.AutoScalingGroupName) groups.set(group.AutoScalingGroupName, group);
    token = out.NextToken;
  } while (token);
  return groups;
}

/** The busy tags of the groups' running instances, by instance id. */
async function describeBusyTags(
  client: EC2Client,
  groupNames: readonly string[],
): Promise<Map<string, { busySlots?: string; idleSince?: string }>> {
  const tags = new Map<string, { busySlots?: string; idleSince?: string }>();
  let token: string | undefined;
  do {
    const out = await client.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${GROUP_TAG}`, Values: [...groupNames] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
        NextToken: token,
      }),
    );
    for (const instance of out.Reservations?.flatMap((r) => r.Instances ?? []) ?? []) {
      const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
      if (instance.InstanceId) tags.set(instance.InstanceId, { busySlots: tag(BUSY_TAGS.busySlots), idleSince: tag(BUSY_TAGS.idleSince) });
    }
    token = out.NextToken;
  } while (token);
  return tags;
}

let defaults: ScalerDeps | undefined;

function runtimeDeps(): ScalerDeps {
  if (!defaults) {
    const config = parseHandlerConfig(readFileSync(join(__dirname, HANDLER_CONFIG_FILE), 'utf8'));
    if (!config.demand) throw new Error(`${HANDLER_CONFIG_FILE}: demand is missing`);
    const poll = config.demand.poll;
    const gitlab = new GitLabRunnerClient({
      baseUrl: config.gitlabUrl,
      timeoutMs: 5000,
      maxRetryAfterMs: 30_000,
      failOnLongRetryAfter: true,
    });
    const secrets = new SecretsManagerClient({});
    defaults = {
      config: config.demand,
      autoScaling: new AutoScalingClient({}),
      ec2: new EC2Client({}),
      poll: poll
        ? async (projectIds?: readonly number[]) => {
            // Read per tick, so a rotated token is picked up.
            const out = await secrets.send(new GetSecretValueCommand({ SecretId: poll.apiTokenSecretName }));
            return listPendingJobs(gitlab, tokenFromSecretString(poll.apiTokenSecretName, out.SecretString), projectIds ?? poll.projectIds);
          }
        : undefined,
      pollOnTick: poll?.onTick ?? true,
    };
  }
  return defaults;
}

/** Lambda entry point. */
export const handler = createScalerHandler(runtimeDeps);
