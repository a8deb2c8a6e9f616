/**
 * Surveys one fleet: the managers GitLab lists for its runner, classified against the
 * instances AWS still has. Shared by the orphan reaper Lambda and the `runner-fleet orphans`
 * command; both inject their own ways of reading tokens and listing instances, so this
 * module imports no SDK.
 *
 * Never decides on partial information: when any listing fails, the fleet is skipped.
 */
import type { GitLabRunnerClient } from '../../gitlab/client';
import type { FleetTarget } from '../shared/handler-config';
import { errorMessage } from '../shared/log';
import { classifyManagers, type ClassifiedManager } from './core';

export interface SurveyPorts {
  readonly gitlab: Pick<GitLabRunnerClient, 'verifyRunner' | 'listRunnerManagers'>;
  /** The fleet's glrt- runner token. */
  runnerToken(fleet: FleetTarget): Promise<string>;
  /** A token that can read the fleet's runner (read_api or an admin/owner token). */
  apiToken(): Promise<string>;
  /**
   * Ids of the fleet's instances that still exist. Must throw rather than return a partial
   * list, and throw {@link FleetNotDeployedError} when the fleet's group does not exist.
   */
  existingInstanceIds(fleet: FleetTarget): Promise<string[]>;
}

/** Thrown by an inventory when a fleet's Auto Scaling group does not exist (not deployed, or deleted). */
export class FleetNotDeployedError extends Error {
  constructor(groupName: string) {
    super(`Auto Scaling group ${groupName} does not exist`);
    this.name = 'FleetNotDeployedError';
  }
}

export type FleetSurvey =
  | {
      readonly fleet: FleetTarget;
      readonly status: 'surveyed';
      readonly runnerId: number;
      readonly existingInstanceIds: readonly string[];
      readonly managers: readonly ClassifiedManager[];
    }
  | {
      readonly fleet: FleetTarget;
      readonly status: 'skipped';
      readonly reason: string;
      /** False when skipping is expected (group not deployed), true when something failed. */
      readonly failed: boolean;
    };

export interface SurveyOptions {
  readonly now: Date;
  readonly graceMinutes: number;
}

export async function surveyFleet(fleet: FleetTarget, ports: SurveyPorts, options: SurveyOptions): Promise<FleetSurvey> {
  let step = 'reading the runner token';
  try {
    const runnerToken = await ports.runnerToken(fleet);
    step = 'resolving the runner id';
    const { id: runnerId } = await ports.gitlab.verifyRunner(runnerToken);
    step = 'reading the API token';
    const apiToken = await ports.apiToken();
    step = 'listing runner managers';
    // GitLab first, AWS second: every listed manager was created before the instance listing,
    // so an instance that exists for it cannot be missed by a listing that started earlier.
    const managers = await ports.gitlab.listRunnerManagers(runnerId, apiToken);
    step = 'listing instances';
    const existingInstanceIds = await ports.existingInstanceIds(fleet);
    return {
      fleet,
      status: 'surveyed',
      runnerId,
      existingInstanceIds,
      managers: classifyManagers({ managers, existingInstanceIds, now: options.now, graceMinutes: options.graceMinutes }),
    };
  } catch (error) {
    if (error instanceof FleetNotDeployedError) return { fleet, status: 'skipped', reason: error.message, failed: false };
    return { fleet, status: 'skipped', reason: `${step} failed: ${errorMessage(error)}`, failed: true };
  }
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the input order in the result. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
