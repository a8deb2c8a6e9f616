/** The orphan listing's renderers, given surveys directly: the cases GitLab produces that a live survey rarely does. */
import { describe, expect, it } from 'vitest';
import { formatOrphanTables, orphansJson } from '../../lib/cli/orphans';
import type { ClassifiedManager } from '../../lib/lambda/orphan-reaper/core';
import type { FleetSurvey } from '../../lib/lambda/orphan-reaper/survey';

const fleet = { name: 'f1', autoScalingGroupName: 'gitlab-runner-fleet-f1', tokenSecretName: 'gitlab-runner-fleet/f1/runner-token' };

function orphan(manager: Partial<ClassifiedManager['manager']>): ClassifiedManager {
  return {
    manager: { id: 1, system_id: 's_0123456789ab', created_at: '2026-11-25T09:00:00Z', contacted_at: null, ...manager },
    verdict: 'orphan',
    reason: 'no existing instance has this system_id',
  };
}

const surveyed = (...managers: ClassifiedManager[]): FleetSurvey => ({
  fleet,
  status: 'surveyed',
  existingInstanceIds: ['i-1'],
  runners: [{ runner: { tokenSecretName: fleet.tokenSecretName, onDemand: false }, runnerId: 7, managers }],
});

describe('formatOrphanTables', () => {
  it('shows a manager that never contacted GitLab as "never", and a missing status as "-"', () => {
    const text = formatOrphanTables([surveyed(orphan({ contacted_at: null }))], { graceMinutes: 30 });

    expect(text).toContain('s_0123456789ab  2026-11-25 09:00Z  never      -       no existing instance has this system_id');
  });

  it('shows a timestamp GitLab sent in an unexpected format as it came', () => {
    const text = formatOrphanTables([surveyed(orphan({ created_at: 'yesterday', status: 'offline' }))], { graceMinutes: 30 });

    expect(text).toMatch(/s_0123456789ab +yesterday +never +offline +no existing/);
  });

  it('counts in singular for one of each', () => {
    const text = formatOrphanTables([surveyed(orphan({}))], { graceMinutes: 30 });

    expect(text).toContain('runner 7: 1 manager, 1 existing instance, 1 orphan (grace 30 min)');
  });
});

describe('orphansJson', () => {
  it('gives a skipped fleet its reason and no managers', () => {
    const json = JSON.parse(orphansJson([{ fleet, status: 'skipped', reason: 'listing instances failed: boom', failed: true }], {}));

    expect(json.fleets).toEqual([{ fleet: 'f1', status: 'skipped', reason: 'listing instances failed: boom' }]);
  });

  it('gives a manager without a status null, keeping the field', () => {
    const json = JSON.parse(orphansJson([surveyed(orphan({}))], {}));

    expect(json.fleets[0].managers[0]).toMatchObject({ status: null, contactedAt: null, verdict: 'orphan' });
  });
});
