/**
 * Which runner managers are orphans, pure: a manager is removed only when every one of these
 * holds, so a doubt always keeps it:
 * - its system_id has the shape fleet instances use (`s_` + 12 hex digits, see
 *   systemIdForInstance); anything else was registered by some other machine with the token;
 * - no existing instance of the fleet (any state but terminated) maps to it;
 * - it was created more than `graceMinutes` ago (a booting instance registers before it is tagged
 *   and listed everywhere);
 * - it has not contacted GitLab within `graceMinutes` (a machine that talks to GitLab is alive).
 */
import { systemIdForInstance } from '../../identity/runner-identity';
import type { RunnerManager } from '../../gitlab/types';

export type ManagerVerdict = 'orphan' | 'live' | 'too-young' | 'recently-contacted' | 'foreign';

export interface ClassifiedManager {
  readonly manager: RunnerManager;
  readonly verdict: ManagerVerdict;
  /** Why, in words for a log line or a table. */
  readonly reason: string;
}

export interface ClassifyInput {
  readonly managers: readonly RunnerManager[];
  /** Instances of the fleet that still exist (pending, running, shutting-down, stopping, stopped). */
  readonly existingInstanceIds: readonly string[];
  readonly now: Date;
  readonly graceMinutes: number;
}

/** system_ids the fleet's instances register with. */
export const FLEET_SYSTEM_ID = /^s_[0-9a-f]{12}$/;

export function classifyManagers(input: ClassifyInput): ClassifiedManager[] {
  const live = new Set(input.existingInstanceIds.map(systemIdForInstance));
  const graceMs = input.graceMinutes * 60_000;
  const now = input.now.getTime();
  return input.managers.map((manager) => {
    const verdict = (v: ManagerVerdict, reason: string): ClassifiedManager => ({ manager, verdict: v, reason });
    if (!FLEET_SYSTEM_ID.test(manager.system_id))
      return verdict('foreign', 'system_id is not one a fleet instance uses; not ours to remove');
    if (live.has(manager.system_id)) return verdict('live', 'its instance still exists');
    const created = Date.parse(manager.created_at);
    if (!Number.isFinite(created) || now - created < graceMs) {
      return verdict('too-young', `created ${age(now, created)}, within the ${input.graceMinutes} min grace`);
    }
    const contacted = manager.contacted_at ? Date.parse(manager.contacted_at) : Number.NaN;
    if (manager.contacted_at && (!Number.isFinite(contacted) || now - contacted < graceMs)) {
      return verdict('recently-contacted', `contacted GitLab ${age(now, contacted)}, within the ${input.graceMinutes} min grace`);
    }
    const lastSeen = manager.contacted_at ? `last contact ${age(now, contacted)}` : 'never contacted';
    return verdict('orphan', `no existing instance has this system_id; created ${age(now, created)}, ${lastSeen}`);
  });
}

/** The orphans among classified managers. */
export function orphansOf(classified: readonly ClassifiedManager[]): ClassifiedManager[] {
  return classified.filter((c) => c.verdict === 'orphan');
}

/** "3h 5m ago", "12m ago", "just now"; "at an unknown time" for unparseable dates. */
export function age(now: number, then: number): string {
  if (!Number.isFinite(then)) return 'at an unknown time';
  const minutes = Math.floor((now - then) / 60_000);
  if (minutes < 1) return 'just now';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return `${days}d ${hours}h ago`;
  if (hours > 0) return `${hours}h ${rest}m ago`;
  return `${rest}m ago`;
}
