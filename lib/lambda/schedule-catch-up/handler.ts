/**
 * The schedule catch-up's shell: a plain Lambda-backed CloudFormation custom resource (one
 * function per deployment, in the shared stack; one resource per scheduled fleet, in the
 * fleet's stack). On Create and Update it sets the group's sizes to those of the scheduled change
 * in force now (core.ts) with UpdateAutoScalingGroup, and answers the pre-signed response URL
 * itself. Delete changes nothing.
 *
 * A failed UpdateAutoScalingGroup fails the resource, with the group, the sizes and AWS's error in
 * the reason: a deployment does not report success while the group sits below its schedule.
 * Properties it cannot read are logged and answered with SUCCESS: an odd schedule never blocks a
 * deployment, the scheduled actions still apply from their next change.
 */
import { AutoScalingClient, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { putCloudFormationResponse, responseDocument, settleBeforeTimeout, type CustomResourceResult } from '../shared/cfn-response';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { planCatchUp } from './core';

export interface CatchUpDeps {
  readonly autoScaling: AutoScalingClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: Logger;
  /** PUTs the response document to the pre-signed URL. @default putCloudFormationResponse */
  readonly respond?: (url: string, body: string) => Promise<void>;
  /** Time kept back from the Lambda timeout to answer FAILED before being killed, in ms. @default 5000 */
  readonly answerMarginMs?: number;
}

export type CatchUpResult = CustomResourceResult;

/** Builds the handler around its dependencies; it always answers CloudFormation, also on failure or near the timeout. */
export function createCatchUpHandler(
  deps: () => CatchUpDeps,
): (event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<CatchUpResult> {
  return async (event, context) => {
    const d = deps();
    const log = d.logger ?? jsonLogger();
    const group = String((event.ResourceProperties as { AutoScalingGroupName?: unknown }).AutoScalingGroupName ?? '');
    // Stable per group, so an Update never looks like a replacement to CloudFormation.
    const physicalId =
      'PhysicalResourceId' in event && event.PhysicalResourceId
        ? event.PhysicalResourceId
        : `schedule-catch-up-${group || event.LogicalResourceId}`;
    const work = apply(event, d, log, physicalId).catch((error: unknown): CatchUpResult => {
      const reason = `could not apply the schedule to Auto Scaling group ${group}: ${errorMessage(error)}`;
      log('error', 'schedule catch-up failed', { requestType: event.RequestType, group, reason, outcome: 'failed' });
      return { Status: 'FAILED', Reason: reason, PhysicalResourceId: physicalId };
    });
    const result = await settleBeforeTimeout(work, context?.getRemainingTimeInMillis?.(), d.answerMarginMs ?? 5000, () => ({
      Status: 'FAILED' as const,
      Reason: `Auto Scaling did not answer in time for group ${group}; see the function logs.`,
      PhysicalResourceId: physicalId,
    }));
    const body = responseDocument(event, result);
    await (d.respond ?? putCloudFormationResponse)(event.ResponseURL, body);
    log('info', 'answered CloudFormation', { requestType: event.RequestType, group, status: result.Status });
    return result;
  };
}

async function apply(event: CloudFormationCustomResourceEvent, d: CatchUpDeps, log: Logger, physicalId: string): Promise<CatchUpResult> {
  const plan = planCatchUp(event.RequestType, event.ResourceProperties, (d.now ?? Date.now)());
  if (plan.kind === 'skip') {
    log(event.RequestType === 'Delete' ? 'info' : 'warn', `schedule not applied: ${plan.reason}`, {
      requestType: event.RequestType,
      outcome: 'ignored',
    });
    return { Status: 'SUCCESS', PhysicalResourceId: physicalId, Data: { Applied: 'false' } };
  }
  await d.autoScaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: plan.groupName,
      MinSize: plan.minSize,
      ...(plan.desiredCapacity === undefined ? {} : { DesiredCapacity: plan.desiredCapacity }),
    }),
  );
  log('info', 'schedule applied', {
    requestType: event.RequestType,
    group: plan.groupName,
    localTime: plan.localTime,
    changeInForce: plan.changeInForce,
    minSize: plan.minSize,
    desiredCapacity: plan.desiredCapacity ?? null,
    outcome: 'done',
  });
  return {
    Status: 'SUCCESS',
    PhysicalResourceId: physicalId,
    Data: {
      Applied: 'true',
      MinSize: String(plan.minSize),
      DesiredCapacity: plan.desiredCapacity === undefined ? '' : String(plan.desiredCapacity),
      ChangeInForce: plan.changeInForce,
    },
  };
}

let runtime: CatchUpDeps | undefined;

/** The Lambda entry point. */
export const handler = createCatchUpHandler(() => {
  runtime ??= { autoScaling: new AutoScalingClient({}) };
  return runtime;
});
