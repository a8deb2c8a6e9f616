/**
 * The schedule catch-up handler with a mocked Auto Scaling client (aws-sdk-client-mock), an
 * injected clock, and a loopback server standing in for CloudFormation's pre-signed response URL.
 */
import { UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { catchUpChangeProperties, SCHEDULE_CATCH_UP_RESOURCE_TYPE } from '../../lib/lambda/schedule-catch-up/core';
import { createCatchUpHandler } from '../../lib/lambda/schedule-catch-up/handler';
import { putCloudFormationResponse } from '../../lib/lambda/shared/cfn-response';
import { scheduledGroupSizes } from '../../lib/scaling/scheduled-sizes';
import { mockedAwsClients } from '../support/aws-mocks';
import { startLoopbackServer, type LoopbackServer } from '../support/loopback-server';
import { fleetSpec } from '../support/stack-helpers';

const GROUP = 'gitlab-runner-fleet-office';
/** Wednesday 2026-12-02 10:30 in Berlin: inside the 08:00-18:00 window. */
const IN_WINDOW = Date.UTC(2026, 11, 2, 9, 30);
/** The same day 20:00 in Berlin: outside it. */
const EVENING = Date.UTC(2026, 11, 2, 19, 0);

function properties(raw: Record<string, unknown> = {}): Record<string, unknown> {
  const fleet = fleetSpec({
    name: 'office',
    capacity: { min: 1, max: 5, desired: 3 },
    schedule: { timeZone: 'Europe/Berlin', maxJitterMinutes: 0, windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
    ...raw,
  });
  return {
    ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:gitlab-runner-fleet-schedule-catch-up',
    AutoScalingGroupName: GROUP,
    TimeZone: fleet.schedule?.timeZone,
    MaxSize: String(fleet.capacity.max),
    DemandScaled: String(fleet.demandScaling !== undefined),
    Changes: catchUpChangeProperties(scheduledGroupSizes(fleet)),
  };
}

describe('schedule catch-up handler', () => {
  const { autoScaling, asgMock, resetAwsMocks } = mockedAwsClients();
  let cfn: LoopbackServer;
  let responses: Array<Record<string, unknown>>;
  let now: number;
  let logs: string[];
  let handler: ReturnType<typeof createCatchUpHandler>;

  const event = (requestType: 'Create' | 'Update' | 'Delete', props = properties()): CloudFormationCustomResourceEvent =>
    ({
      RequestType: requestType,
      ServiceToken: String(props.ServiceToken),
      ResponseURL: `${cfn.url}/response?X-Amz-Signature=abc`,
      StackId: 'arn:aws:cloudformation:eu-central-1:123456789012:stack/gitlab-runner-fleet-office/1',
      RequestId: `req-${requestType}`,
      LogicalResourceId: 'FleetScheduleCatchUp',
      ResourceType: SCHEDULE_CATCH_UP_RESOURCE_TYPE,
      ResourceProperties: props,
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: `schedule-catch-up-${GROUP}`, OldResourceProperties: properties() }),
    }) as CloudFormationCustomResourceEvent;

  beforeEach(async () => {
    resetAwsMocks();
    asgMock.on(UpdateAutoScalingGroupCommand).resolves({});
    responses = [];
    cfn = await startLoopbackServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        responses.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200).end();
      });
    });
    now = IN_WINDOW;
    logs = [];
    handler = createCatchUpHandler(() => ({
      autoScaling,
      now: () => now,
      logger: (level, message, fields) => void logs.push(JSON.stringify({ level, message, ...fields })),
    }));
  });

  afterEach(async () => {
    await cfn.stop();
  });

  it('Create in the middle of a window sets min and desired to the window capacity and answers SUCCESS', async () => {
    await handler(event('Create'));
    expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GROUP, MinSize: 3, DesiredCapacity: 3 },
    ]);
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: `schedule-catch-up-${GROUP}`,
        RequestId: 'req-Create',
        LogicalResourceId: 'FleetScheduleCatchUp',
        Data: { Applied: 'true', MinSize: '3', DesiredCapacity: '3', ChangeInForce: 'mon,tue,wed,thu,fri 08:00' },
      }),
    ]);
  });

  it('Update after a schedule change applies the new schedule at the deploy instant, keeping the physical id', async () => {
    // GIVEN the window's capacity changed from 3 to 2, deployed in the evening
    now = EVENING;
    const changed = properties({ capacity: { min: 0, max: 5, desired: 2 } });
    // WHEN the update arrives THEN the evening's floor (0) is applied, under the same physical id
    await handler(event('Update', changed));
    expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: GROUP,
      MinSize: 0,
      DesiredCapacity: 0,
    });
    expect(responses[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `schedule-catch-up-${GROUP}` });
  });

  it('a demand-scaled fleet gets only its floor: desired capacity stays with the scaler', async () => {
    await handler(event('Create', properties({ demandScaling: { warmInstances: 1 } })));
    expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: GROUP, MinSize: 1 });
  });

  it('Delete calls nothing and answers SUCCESS', async () => {
    await handler(event('Delete'));
    expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(responses[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `schedule-catch-up-${GROUP}` });
  });

  it('an odd schedule calls nothing, logs why and answers SUCCESS', async () => {
    await handler(event('Create', { ...properties(), TimeZone: 'Nowhere/Special', Changes: [] }));
    expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(responses[0]).toMatchObject({ Status: 'SUCCESS', Data: { Applied: 'false' } });
    expect(logs.join('\n')).toContain('Nowhere/Special');
  });

  it('a failed UpdateAutoScalingGroup fails the resource with a reason naming the group and the error', async () => {
    asgMock
      .on(UpdateAutoScalingGroupCommand)
      .rejects(Object.assign(new Error('User is not authorized to perform: autoscaling:UpdateAutoScalingGroup'), { name: 'AccessDenied' }));
    const result = await handler(event('Create'));
    expect(result.Status).toBe('FAILED');
    expect(responses[0]).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `schedule-catch-up-${GROUP}` });
    expect(responses[0].Reason).toBe(
      `could not apply the schedule to Auto Scaling group ${GROUP}: AccessDenied: User is not authorized to perform: autoscaling:UpdateAutoScalingGroup`,
    );
  });

  it('answers FAILED before the Lambda timeout when Auto Scaling does not answer', async () => {
    asgMock.on(UpdateAutoScalingGroupCommand).callsFake(() => new Promise(() => {}));
    handler = createCatchUpHandler(() => ({ autoScaling, now: () => now, logger: () => {}, answerMarginMs: 0 }));
    const result = await handler(event('Create'), { getRemainingTimeInMillis: () => 5 });
    expect(result.Status).toBe('FAILED');
    expect(responses[0].Reason).toContain(`Auto Scaling did not answer in time for group ${GROUP}`);
  });
});

describe('putCloudFormationResponse', () => {
  it('retries a failed PUT and gives up after three attempts', async () => {
    // GIVEN a response URL that fails twice, then accepts
    let calls = 0;
    const server = await startLoopbackServer((_req, res) => void res.writeHead(++calls < 3 ? 503 : 200).end());
    const sleeps: number[] = [];
    const sleep = vi.fn(async (ms: number) => void sleeps.push(ms));
    try {
      // WHEN answering THEN the third attempt lands, after two growing waits
      await putCloudFormationResponse(`${server.url}/r`, '{}', sleep);
      expect(calls).toBe(3);
      expect(sleeps).toEqual([500, 1000]);
      // AND a URL that keeps failing ends in an error naming the status
      calls = -10;
      await expect(putCloudFormationResponse(`${server.url}/r`, '{}', sleep)).rejects.toThrow(
        'could not answer CloudFormation: Error: HTTP 503',
      );
    } finally {
      await server.stop();
    }
  });
});
