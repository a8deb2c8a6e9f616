/**
 * The spot fallback's shell: reads EventBridge events (launch failures of the fleet groups and
 * its own timer ticks) from a FIFO queue, one at a time, asks Auto Scaling and EC2 what the group
 * looks like, lets the pure core decide, then sets the group's on-demand base and its fallback
 * state tag. Each switch is logged as one structured event; fallback minutes go out as an EMF
 * metric. Records that fail are reported as batch item failures, so SQS retries them and finally
 * moves them to the dead-letter queue (with an alarm).
 */
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fleetByGroup, type FleetTarget, type HandlerConfig } from '../shared/handler-config';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { fleetMetricRecord } from '../shared/emf';
import { HEALTH_METRICS } from '../../identity/health-metrics';
import { runtimeClients } from '../shared/runtime';
import {
  decideFallback,
  FALLBACK_STATE_TAG,
  formatFallbackState,
  parseFallbackEvent,
  type FallbackEvent,
  type FallbackPlan,
  type GroupFacts,
} from './core';

export interface SpotFallbackDeps {
  readonly config: HandlerConfig;
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: Logger;
  /** Where EMF metric lines go. @default console.log */
  readonly metrics?: (line: string) => void;
}

/** Instance lifecycle states that count as capacity (launching or serving). */
const COUNTED_STATES = /^(Pending|Pending:Wait|Pending:Proceed|InService)$/;

/** Builds the SQS handler around its dependencies. */
export function createSpotFallbackHandler(deps: () => SpotFallbackDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const d = deps();
    const log = d.logger ?? jsonLogger();
    const failures: string[] = [];
    // One at a time, in order: two events for one group must not race on its tag.
    for (const record of event.Records) {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        log('error', 'message body is not JSON; leaving it for the dead-letter queue', { messageId: record.messageId, outcome: 'failed' });
        failures.push(record.messageId);
        continue;
      }
      const parsed = parseFallbackEvent(body);
      if (parsed.kind === 'unsupported') {
        log('info', parsed.reason, { messageId: record.messageId, outcome: 'ignored' });
        continue;
      }
      try {
        await handleEvent(parsed, d, log);
      } catch (error) {
        log('error', 'failed; will retry', {
          messageId: record.messageId,
          event: parsed.kind,
          outcome: 'failed',
          error: errorMessage(error),
        });
        failures.push(record.messageId);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

async function handleEvent(event: FallbackEvent, deps: SpotFallbackDeps, log: Logger): Promise<void> {
  if (event.kind === 'launch-failure') {
    const fleet = fleetByGroup(deps.config, event.groupName);
    if (!fleet?.spotFallback) {
      log('info', 'launch failure of a group without spot fallback', { group: event.groupName, outcome: 'ignored' });
      return;
    }
    const facts = await describeGroups(deps, [fleet.autoScalingGroupName]);
    const group = facts.get(fleet.autoScalingGroupName);
    if (!group) throw new Error(`Auto Scaling group ${fleet.autoScalingGroupName} does not exist`);
    await apply(decideFallback(event, fleet.spotFallback, group, now(deps)), fleet, deps, log);
    return;
  }
  const fleets = deps.config.fleets.filter((f) => f.spotFallback);
  const facts = await describeGroups(
    deps,
    fleets.map((f) => f.autoScalingGroupName),
  );
  const problems: string[] = [];
  for (const fleet of fleets) {
    const group = facts.get(fleet.autoScalingGroupName);
    if (!group) continue; // not deployed (yet): nothing to fall back
    try {
      await apply(decideFallback(event, fleet.spotFallback, group, now(deps)), fleet, deps, log);
    } catch (error) {
      problems.push(`${fleet.name}: ${errorMessage(error)}`);
    }
  }
  if (problems.length > 0) throw new Error(`tick failed for ${problems.join('; ')}`);
}

const now = (deps: SpotFallbackDeps) => (deps.now ?? Date.now)();

async function apply(plan: FallbackPlan, fleet: FleetTarget, deps: SpotFallbackDeps, log: Logger): Promise<void> {
  const fields = { fleet: fleet.name, group: plan.groupName, action: plan.action, shortfall: plan.shortfall, reason: plan.reason };
  if (plan.onDemandBase !== undefined) {
    await deps.autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: plan.groupName,
        MixedInstancesPolicy: { InstancesDistribution: { OnDemandBaseCapacity: plan.onDemandBase } },
      }),
    );
  }
  // The tag is written after the base: a failure in between leaves a state that the next event repairs.
  if (plan.state) {
    await deps.autoScaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          {
            ResourceId: plan.groupName,
            ResourceType: 'auto-scaling-group',
            Key: FALLBACK_STATE_TAG,
            Value: formatFallbackState(plan.state),
            PropagateAtLaunch: false,
          },
        ],
      }),
    );
  }
  if (plan.action === 'raise')
    log('warn', 'spot fallback: on-demand takes over', { ...fields, event: 'spot-fallback-raised', onDemandBase: plan.onDemandBase });
  else if (plan.action === 'return') {
    log('info', 'spot fallback: back to spot', {
      ...fields,
      event: 'spot-fallback-returned',
      onDemandBase: plan.onDemandBase,
      fallbackMinutes: plan.fallbackMinutes,
    });
    (deps.metrics ?? console.log)(
      JSON.stringify(fleetMetricRecord(fleet.name, { [HEALTH_METRICS.spotFallbackMinutes]: plan.fallbackMinutes ?? 0 }, {}, now(deps))),
    );
  } else log('info', plan.reason, { ...fields, outcome: plan.action });
}

/** Facts of the named groups that exist, by name (up to 50 names per call, as the API allows). */
async function describeGroups(deps: SpotFallbackDeps, names: readonly string[]): Promise<Map<string, GroupFacts>> {
  const facts = new Map<string, GroupFacts>();
  for (let i = 0; i < names.length; i += 50) {
    let nextToken: string | undefined;
    do {
      const page = await deps.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names.slice(i, i + 50), NextToken: nextToken }),
      );
      for (const group of page.AutoScalingGroups ?? []) {
        if (group.AutoScalingGroupName) facts.set(group.AutoScalingGroupName, await groupFacts(deps.ec2, group));
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return facts;
}

async function groupFacts(ec2: EC2Client, group: AutoScalingGroup): Promise<GroupFacts> {
  const counted = (group.Instances ?? [])
    .filter((i) => i.InstanceId && COUNTED_STATES.test(i.LifecycleState ?? ''))
    .map((i) => i.InstanceId!);
  let spotInstances = 0;
  for (let i = 0; i < counted.length; i += 500) {
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ InstanceIds: counted.slice(i, i + 500), NextToken: nextToken }));
      for (const reservation of page.Reservations ?? []) {
        spotInstances += (reservation.Instances ?? []).filter((instance) => instance.InstanceLifecycle === 'spot').length;
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return {
    groupName: group.AutoScalingGroupName!,
    desired: group.DesiredCapacity ?? 0,
    max: group.MaxSize ?? 0,
    onDemandBase: group.MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity ?? 0,
    spotInstances,
    stateTag: group.Tags?.find((t) => t.Key === FALLBACK_STATE_TAG)?.Value,
  };
}

let defaults: SpotFallbackDeps | undefined;

/** Dependencies in the Lambda runtime: config file beside the bundle, clients reused across invocations. */
function runtimeDeps(): SpotFallbackDeps {
  defaults ??= runtimeClients(__dirname, 5000);
  return defaults;
}

/** Lambda entry point. */
export const handler = createSpotFallbackHandler(runtimeDeps);
