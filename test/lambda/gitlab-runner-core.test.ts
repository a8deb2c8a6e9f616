import { describe, expect, it } from 'vitest';
import {
  convergeAction,
  failureReason,
  planRunnerRequest,
  settingsDiffer,
  type RunnerResourceProperties,
} from '../../lib/lambda/gitlab-runner/core';
import type { RunnerDetails } from '../../lib/gitlab';

const RAW = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
  FleetName: 'spotty',
  ComputeType: 'spot',
  RunnerType: 'instance_type',
  AccessTokenSecretId: 'access',
  TokenSecretId: 'token',
  Description: 'd',
  TagList: ['computetype-spot', 'arm64'],
  RunUntagged: 'false',
  Locked: 'false',
  AccessLevel: 'not_protected',
  Paused: 'false',
  MaximumTimeout: '3600',
};

const CURRENT: RunnerDetails = {
  id: 5,
  runner_type: 'instance_type',
  description: 'd',
  tag_list: ['arm64', 'computetype-spot'],
  run_untagged: false,
  locked: false,
  access_level: 'not_protected',
  paused: false,
  maximum_timeout: 3600,
};

describe('gitlab-runner custom resource core', () => {
  it('plans nothing for an update that only changed the service token', () => {
    expect(
      planRunnerRequest({ RequestType: 'Update', ResourceProperties: RAW, OldResourceProperties: { ...RAW, ServiceToken: 'x' } }),
    ).toEqual({
      kind: 'unchanged',
    });
  });

  it('converges on create and on a changed update, deletes on delete', () => {
    expect(planRunnerRequest({ RequestType: 'Create', ResourceProperties: RAW }).kind).toBe('converge');
    expect(
      planRunnerRequest({ RequestType: 'Update', ResourceProperties: { ...RAW, Paused: 'true' }, OldResourceProperties: RAW }).kind,
    ).toBe('converge');
    expect(planRunnerRequest({ RequestType: 'Delete', ResourceProperties: RAW }).kind).toBe('delete');
  });

  it('ignores tag order but sees every other setting change', () => {
    const props = planRunnerRequest({ RequestType: 'Create', ResourceProperties: RAW });
    const { settings } = (props as { props: RunnerResourceProperties }).props;

    expect(settingsDiffer(settings, CURRENT)).toBe(false);
    expect(settingsDiffer({ ...settings, run_untagged: true }, CURRENT)).toBe(true);
    expect(settingsDiffer({ ...settings, maximum_timeout: 600 }, CURRENT)).toBe(true);
  });

  it('creates a new runner when the one in the secret is of another type (the scope changed)', () => {
    const { props } = planRunnerRequest({ RequestType: 'Create', ResourceProperties: RAW }) as { props: RunnerResourceProperties };

    expect(convergeAction(props, undefined)).toEqual({ kind: 'create' });
    expect(convergeAction(props, { ...CURRENT, runner_type: 'group_type' })).toEqual({ kind: 'create' });
    expect(convergeAction(props, CURRENT)).toEqual({ kind: 'in-sync', id: 5 });
    expect(convergeAction(props, { ...CURRENT, paused: true })).toEqual({ kind: 'update', id: 5 });
  });

  it('explains 401, a missing role, and an unknown group path', () => {
    const props = { accessTokenSecretId: 'access', runnerType: 'group_type' as const, namespace: 'org/x' };

    expect(failureReason({ status: 401, message: 'HTTP 401' }, props)).toContain('is invalid, expired or revoked');
    expect(failureReason({ status: 403, message: 'HTTP 403 (403 Forbidden)' }, props)).toContain('without the Owner role (group)');
    expect(failureReason({ status: 404, method: 'GET', path: '/api/v4/groups/org%2Fx', message: 'HTTP 404' }, props)).toContain(
      'org/x is not a group the token can see',
    );
  });

  it('names every malformed property at once', () => {
    let message = '';
    try {
      planRunnerRequest({
        RequestType: 'Create',
        ResourceProperties: { ...RAW, ComputeType: 'cheap', RunUntagged: 'maybe', TagList: 'a,b' },
      });
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain('ComputeType must be spot or on-demand');
    expect(message).toContain('RunUntagged must be true or false');
    expect(message).toContain('TagList must be a list of strings');
  });
});
