/**
 * The shared rotation steps (lib/rotation/token-rotation.ts) with in-memory ports: the edges
 * the CLI and Lambda tests do not reach (a rollback that itself fails, a new runner that cannot
 * be stored nor deleted, the timeout rule, instance-scope runners).
 */
import { describe, expect, it } from 'vitest';
import type { RunnerSettings } from '../../lib/gitlab';
import {
  advanceRotation,
  beginRotation,
  rotationTimeoutMinutes,
  unfinishedRotation,
  type RotationGitLab,
  type RotationTarget,
  type TokenRotationPorts,
} from '../../lib/rotation/token-rotation';
import { parseRotationEvent, stepResult } from '../../lib/lambda/token-rotation/core';

const SETTINGS: RunnerSettings = {
  description: 'gitlab-runner-fleet solo (spot)',
  tag_list: ['computetype-spot', 'arm64', 'docker'],
  run_untagged: false,
  locked: false,
  access_level: 'not_protected',
  paused: false,
  maximum_timeout: 3600,
};

const TARGET: RotationTarget = {
  fleetName: 'solo',
  autoScalingGroupName: 'gitlab-runner-fleet-solo',
  minHealthyPercentage: 90,
  runnerType: 'instance_type',
  accessTokenSecretName: 'access',
  runners: [{ computeType: 'spot', tokenSecretName: 'solo/token', settings: SETTINGS }],
};

/** A GitLab in memory: runners by id with their manager system ids. */
function memoryPorts(overrides: Partial<RotationGitLab> = {}, portOverrides: Partial<TokenRotationPorts> = {}) {
  const runners = new Map<number, { token: string; managers: string[]; description?: string }>([
    [7, { token: 'old-token', managers: ['r_a'], description: undefined }],
  ]);
  const secrets = new Map([['solo/token', 'old-token']]);
  const lines: string[] = [];
  let nextId = 8;
  const gitlab: RotationGitLab = {
    verifyRunner: async (token) => ({ id: [...runners].find(([, r]) => r.token === token)![0], token_expires_at: null }),
    getRunner: async (_api, id) => ({ id, description: runners.get(id)!.description }) as never,
    namespaceId: async () => {
      throw new Error('instance runners need no namespace');
    },
    createRunner: async (_api, _type, _ns, settings) => {
      const id = nextId++;
      runners.set(id, { token: `new-token-${id}`, managers: [], description: settings.description });
      return { id, token: `new-token-${id}`, tokenExpiresAt: null };
    },
    listRunnerManagers: async (id) => (runners.get(id)?.managers ?? []).map((system_id) => ({ system_id }) as never),
    deleteRunner: async (_api, id) => (runners.delete(id) ? 'deleted' : 'already-gone'),
    ...overrides,
  };
  const ports: TokenRotationPorts = {
    gitlab,
    accessToken: 'access-token',
    readRunnerToken: async (r) => secrets.get(r.tokenSecretName)!,
    writeSecret: async (name, token) => void secrets.set(name, token),
    remember: () => {},
    startInstanceRefresh: async () => 'refresh-1',
    refreshStatus: async () => 'Successful',
    log: (line) => void lines.push(line),
    ...portOverrides,
  };
  return { ports, runners, secrets, lines };
}

describe('shared token rotation steps', () => {
  it('creates an instance runner without a namespace, with the configured description when the old runner has none', async () => {
    const { ports, runners } = memoryPorts();

    const state = await beginRotation(TARGET, ports);

    expect(state.runners).toEqual([{ computeType: 'spot', oldId: 7, newId: 8, oldDeleted: false }]);
    expect(runners.get(8)?.description).toBe('gitlab-runner-fleet solo (spot)');
  });

  it('deletes a new runner whose token could not be stored, and says so', async () => {
    const { ports, runners, lines } = memoryPorts({}, { writeSecret: async () => Promise.reject(new Error('denied')) });

    await expect(beginRotation(TARGET, ports)).rejects.toThrow('denied');

    expect([...runners.keys()]).toEqual([7]);
    expect(lines).toContain('solo: its token could not be stored, so runner 8 is deleted again');
  });

  it('asks for a deletion by hand when a runner can be neither stored nor deleted', async () => {
    const { ports, lines } = memoryPorts(
      { deleteRunner: async () => Promise.reject(new Error('GitLab down')) },
      { writeSecret: async () => Promise.reject(new Error('denied')) },
    );

    await expect(beginRotation(TARGET, ports)).rejects.toThrow('denied');

    expect(lines).toContain('solo: runner 8 could not be stored nor deleted (GitLab down); delete it in GitLab');
  });

  it('logs a rollback that fails and keeps the old runner', async () => {
    const { ports, runners, lines } = memoryPorts(
      { deleteRunner: async () => Promise.reject(new Error('GitLab down')) },
      { startInstanceRefresh: async () => Promise.reject(new Error('throttled')) },
    );

    await expect(beginRotation(TARGET, ports)).rejects.toThrow('throttled');

    expect(runners.has(7)).toBe(true);
    expect(lines).toContain('solo: could not roll back runner 8 (spot): GitLab down; old runner 7 keeps working');
  });

  it('passes GitLab errors through unchanged without a mapper', async () => {
    const failure = new Error('HTTP 500');
    const { ports } = memoryPorts({ verifyRunner: async () => Promise.reject(failure) });

    await expect(beginRotation(TARGET, ports)).rejects.toBe(failure);
  });

  it('reports refreshing, then draining with the managers left, then done', async () => {
    let status = 'InProgress';
    const { ports, runners } = memoryPorts({}, { refreshStatus: async () => status });
    const state = await beginRotation(TARGET, ports);

    expect((await advanceRotation(TARGET, state, ports)).progress).toEqual({ phase: 'refreshing', refreshStatus: 'InProgress' });
    status = 'Successful';
    const draining = await advanceRotation(TARGET, state, ports);
    expect(draining.progress).toEqual({ phase: 'draining', managers: { 7: ['r_a'] } });
    expect(unfinishedRotation(TARGET, state, draining.progress)).toEqual(['solo: old runner 7 still has 1 manager(s) (r_a); kept']);
    runners.get(7)!.managers = [];
    const done = await advanceRotation(TARGET, draining.state, ports);
    expect(done.progress).toEqual({ phase: 'done' });
    expect(unfinishedRotation(TARGET, done.state, done.progress)).toEqual([]);
    // Run again after a lost answer: nothing left to do, nothing deleted twice.
    expect((await advanceRotation(TARGET, done.state, ports)).progress).toEqual({ phase: 'done' });
  });

  it('allows a whole drain per batch of replaced instances, at most a week', () => {
    expect(rotationTimeoutMinutes(60, 90)).toBe(10 * 75 + 60);
    expect(rotationTimeoutMinutes(60, 0)).toBe(75 + 60);
    expect(rotationTimeoutMinutes(1440, 100)).toBe(7 * 24 * 60);
  });
});

describe('token-rotation Lambda core', () => {
  const rotation = {
    refreshId: 'r-1',
    startedAt: '2026-01-01T00:00:00.000Z',
    deadline: '2026-01-01T10:00:00.000Z',
    runners: [{ computeType: 'spot' as const, oldId: 7, newId: 8, oldDeleted: false }],
  };

  it('names every bad field of a check input', () => {
    expect(() =>
      parseRotationEvent({
        action: 'check',
        rotation: { ...rotation, deadline: 'soon', runners: [{ computeType: 'gpu', oldId: 'x', newId: 1.5 }] },
      }),
    ).toThrow(
      'invalid check input: rotation.deadline must be an ISO time; rotation.runners[0].computeType must be spot or on-demand; ' +
        'rotation.runners[0].oldId must be a whole number; rotation.runners[0].newId must be a whole number; rotation.runners[0].oldDeleted must be true or false',
    );
    expect(() => parseRotationEvent(undefined)).toThrow('action must be start or check, got undefined');
  });

  it('keeps a rotation running until its deadline, then fails it naming what is left', () => {
    const progress = { phase: 'refreshing' as const, refreshStatus: 'InProgress' };

    expect(stepResult(TARGET, rotation, progress, new Date('2026-01-01T09:59:00Z'))).toMatchObject({ phase: 'refreshing' });
    const late = stepResult(TARGET, rotation, progress, new Date('2026-01-01T10:01:00Z'));
    expect(late.phase).toBe('failed');
    expect(late.message).toContain('solo: instance refresh r-1 is InProgress; old runners 7 are kept');
  });
});
