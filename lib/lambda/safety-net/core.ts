/**
 * The safety net's decisions, pure: given an EventBridge event about a fleet instance and what
 * EC2 says about that instance now, decide whether to delete its GitLab runner manager, whether
 * to complete its terminate lifecycle action, or to leave it alone / look again later.
 *
 * The instance's own drain agent is the primary path (SIGQUIT, heartbeats, delete manager,
 * complete). The safety net acts only where the agent cannot: the instance is gone or no
 * longer running. It never acts on a running instance, because deleting the manager or
 * completing the action early would cut running jobs short.
 */
import { isInstanceId, LIFECYCLE_HOOKS, systemIdForInstance } from '../../identity/runner-identity';
import { fleetByGroup, type FleetTarget, type HandlerConfig } from '../shared/handler-config';

export const DETAIL_TYPES = {
  terminateSuccessful: 'EC2 Instance Terminate Successful',
  terminateLifecycleAction: 'EC2 Instance-terminate Lifecycle Action',
  spotInterruption: 'EC2 Spot Instance Interruption Warning',
} as const;

export const TERMINATING_TRANSITION = 'autoscaling:EC2_INSTANCE_TERMINATING';

export type SafetyNetEvent =
  | { readonly kind: 'terminate-successful'; readonly instanceId: string; readonly groupName: string }
  | {
      readonly kind: 'terminate-lifecycle-action';
      readonly instanceId: string;
      readonly groupName: string;
      readonly hookName: string;
      readonly transition: string;
      readonly lifecycleActionToken?: string;
    }
  | { readonly kind: 'spot-interruption'; readonly instanceId: string; readonly action?: string };

export type ParsedEvent = SafetyNetEvent | { readonly kind: 'unsupported'; readonly reason: string };

/** EC2 instance states, plus `not-found` once EC2 no longer describes the instance. */
export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped' | 'not-found';

/** What EC2 says about the instance when the event is handled. */
export interface InstanceFacts {
  readonly state: InstanceState;
  /** The `aws:autoscaling:groupName` tag, when the instance is still describable. */
  readonly groupName?: string;
}

export type Outcome =
  /** Manager deleted (or already gone); lifecycle action completed where there was one. */
  | 'cleaned-up'
  /** The instance still runs: its drain agent heartbeats and completes the action itself. */
  | 'left-to-agent'
  /** Spot notice for a running instance: its jobs get the rest of the notice; look again later. */
  | 'wait-for-termination'
  | 'ignored';

export interface LifecycleCompletion {
  readonly groupName: string;
  readonly hookName: string;
  readonly instanceId: string;
  readonly lifecycleActionToken?: string;
}

export interface SafetyNetPlan {
  readonly outcome: Outcome;
  readonly reason: string;
  readonly fleet?: FleetTarget;
  readonly systemId?: string;
  /** Delete the instance's runner manager (by fleet token + system_id). */
  readonly deleteManager: boolean;
  /** Complete the terminate lifecycle action with CONTINUE. */
  readonly completeLifecycle?: LifecycleCompletion;
  /** True when the event must be handled again later (reported as a batch item failure). */
  readonly retryLater: boolean;
}

/** States in which the instance can no longer run jobs, so nothing is lost by cleaning up. */
const GONE: ReadonlySet<InstanceState> = new Set(['shutting-down', 'terminated', 'stopping', 'stopped', 'not-found']);

/** Reads an EventBridge event (as delivered in an SQS message body). */
export function parseSafetyNetEvent(raw: unknown): ParsedEvent {
  if (!isRecord(raw)) return { kind: 'unsupported', reason: 'event is not a JSON object' };
  const detailType = raw['detail-type'];
  const detail = isRecord(raw.detail) ? raw.detail : {};
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  if (detailType === DETAIL_TYPES.terminateSuccessful || detailType === DETAIL_TYPES.terminateLifecycleAction) {
    const instanceId = text(detail.EC2InstanceId);
    const groupName = text(detail.AutoScalingGroupName);
    if (!instanceId || !isInstanceId(instanceId)) return { kind: 'unsupported', reason: `${detailType} without a valid EC2InstanceId` };
    if (!groupName) return { kind: 'unsupported', reason: `${detailType} without AutoScalingGroupName` };
    if (detailType === DETAIL_TYPES.terminateSuccessful) return { kind: 'terminate-successful', instanceId, groupName };
    return {
      kind: 'terminate-lifecycle-action',
      instanceId,
      groupName,
      hookName: text(detail.LifecycleHookName) ?? '',
      transition: text(detail.LifecycleTransition) ?? '',
      lifecycleActionToken: text(detail.LifecycleActionToken),
    };
  }
  if (detailType === DETAIL_TYPES.spotInterruption) {
    const instanceId = text(detail['instance-id']);
    if (!instanceId || !isInstanceId(instanceId)) return { kind: 'unsupported', reason: `${detailType} without a valid instance-id` };
    return { kind: 'spot-interruption', instanceId, action: text(detail['instance-action']) };
  }
  return { kind: 'unsupported', reason: `detail-type ${JSON.stringify(detailType)} is not handled` };
}

/** True when deciding needs the instance's current state from EC2. */
export function needsInstanceFacts(event: SafetyNetEvent): boolean {
  return event.kind !== 'terminate-successful';
}

/**
 * How many times a spot notice is looked at while its instance still runs. Past that, the
 * instance outlived its notice; the Terminate Successful event cleans up when it does go,
 * and the notice is not sent to the dead-letter queue as a failure.
 */
export const SPOT_MAX_CHECKS = 3;

/** Delivery facts of the message carrying the event. */
export interface DeliveryFacts {
  /** How many times the queue has delivered this message, including now (SQS ApproximateReceiveCount). */
  readonly receiveCount: number;
}

/** Decides what to do for one event. `facts` is required when {@link needsInstanceFacts} says so. */
export function decideSafetyNet(
  event: SafetyNetEvent,
  config: Pick<HandlerConfig, 'fleets' | 'deployment'>,
  facts?: InstanceFacts,
  delivery: DeliveryFacts = { receiveCount: 1 },
): SafetyNetPlan {
  const systemId = systemIdForInstance(event.instanceId);
  const ignore = (reason: string, fleet?: FleetTarget): SafetyNetPlan => ({
    outcome: 'ignored',
    reason,
    fleet,
    systemId,
    deleteManager: false,
    retryLater: false,
  });

  switch (event.kind) {
    case 'terminate-successful': {
      const fleet = fleetByGroup(config, event.groupName);
      if (!fleet) return ignore(`group ${event.groupName} is not a fleet group`);
      return { outcome: 'cleaned-up', reason: 'instance terminated', fleet, systemId, deleteManager: true, retryLater: false };
    }
    case 'terminate-lifecycle-action': {
      const fleet = fleetByGroup(config, event.groupName);
      if (!fleet) return ignore(`group ${event.groupName} is not a fleet group`);
      if (event.hookName !== LIFECYCLE_HOOKS.terminate)
        return ignore(`hook ${event.hookName || '(none)'} is not the fleet's terminate hook`, fleet);
      if (event.transition !== TERMINATING_TRANSITION)
        return ignore(`transition ${event.transition || '(none)'} is not ${TERMINATING_TRANSITION}`, fleet);
      const state = requireFacts(event, facts).state;
      if (!GONE.has(state)) {
        return {
          outcome: 'left-to-agent',
          reason: `instance is ${state}; its drain agent finishes jobs and completes the action`,
          fleet,
          systemId,
          deleteManager: false,
          retryLater: false,
        };
      }
      return {
        outcome: 'cleaned-up',
        reason: `instance is ${state}; its drain agent cannot act`,
        fleet,
        systemId,
        deleteManager: true,
        completeLifecycle: {
          groupName: event.groupName,
          hookName: event.hookName,
          instanceId: event.instanceId,
          lifecycleActionToken: event.lifecycleActionToken,
        },
        retryLater: false,
      };
    }
    case 'spot-interruption': {
      const current = requireFacts(event, facts);
      const fleet = fleetByGroup(config, current.groupName);
      if (!fleet) {
        return ignore(
          current.state === 'not-found'
            ? 'instance no longer described by EC2; its group is unknown (Terminate Successful covers fleet instances)'
            : `instance is not in a fleet group (group: ${current.groupName ?? 'none'})`,
        );
      }
      if (!GONE.has(current.state) && delivery.receiveCount >= SPOT_MAX_CHECKS) {
        return {
          outcome: 'left-to-agent',
          reason: `instance still ${current.state} after ${delivery.receiveCount} checks; its agent or the Terminate Successful event cleans up`,
          fleet,
          systemId,
          deleteManager: false,
          retryLater: false,
        };
      }
      if (!GONE.has(current.state)) {
        return {
          outcome: 'wait-for-termination',
          reason: `instance is ${current.state}; running jobs keep the rest of the notice, deregistration follows once it is gone`,
          fleet,
          systemId,
          deleteManager: false,
          retryLater: true,
        };
      }
      return {
        outcome: 'cleaned-up',
        reason: `spot instance is ${current.state}`,
        fleet,
        systemId,
        deleteManager: true,
        retryLater: false,
      };
    }
  }
}

function requireFacts(event: SafetyNetEvent, facts: InstanceFacts | undefined): InstanceFacts {
  if (!facts) throw new Error(`${event.kind} for ${event.instanceId} needs the instance state`);
  return facts;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
