/**
 * Surveys one fleet: the managers GitLab lists for each of its runners, classified against the
 * instances AWS still has. A mixed fleet (spot with an on-demand floor and a second token) has
 * two runners, and an on-demand instance registers with the second one, so both are listed: an
 * orphaned on-demand manager is found like a spot one. Shared by the orphan reaper Lambda and the
 * `runner-fleet orphans` command; both inject their own ways of reading tokens and listing
 * instances, so this module imports no SDK.
 *
 * Never decides on partial information: when any listing fails (of any runner), the fleet is skipped.
 */
import type { GitLabRunnerClient } from '../../gitlab/client';
import type { RunnerManager } from '../../gitlab/types';
import type { FleetTarget } from '../shared/handler-config';
import { errorMessage } from '../shared/log';
import { classifyManagers, type ClassifiedManager } from './core';

/** One runner (GitLab runner object) of a fleet, known by the secret holding its glrt- token. */
export interface FleetRunnerToken {
  readonly tokenSecretName: string;
  /** True for a mixed fleet's second runner, the one its on-demand instances register with. */
  readonly onDemand: boolean;
}

/** Every runner of a fleet: its token secret, and a mixed fleet's on-demand token secret. */
export function fleetRunnerTokens(fleet: Pick<FleetTarget, 'tokenSecretName' | 'onDemandTokenSecretName'>): FleetRunnerToken[] {
  const runners: FleetRunnerToken[] = [{ tokenSecretName: fleet.tokenSecretName, onDemand: false }];
  if (fleet.onDemandTokenSecretName && fleet.onDemandTokenSecretName !== fleet.tokenSecretName)
    runners.push({ tokenSecretName: fleet.onDemandTokenSecretName, onDemand: true });
  return runners;
}

export interface SurveyPorts {
  readonly gitlab: Pick<GitLabRunnerClient, 'verifyRunner' | 'listRunnerManagers'>;
  /** The glrt- token of one of the fleet's runners. */
  runnerToken(fleet: FleetTarget, runner: FleetRunnerToken): Promise<string>;
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

/** The managers of one runner of a surveyed fleet. */
export interface RunnerSurvey {
  readonly runner: FleetRunnerToken;
  readonly runnerId: number;
  readonly managers: readonly ClassifiedManager[];
}

export type FleetSurvey =
  | {
      readonly fleet: FleetTarget;
      readonly status: 'surveyed';
      readonly existingInstanceIds: readonly string[];
      /** One entry per runner of the fleet (two for a mixed fleet), in {@link fleetRunnerTokens} order. */
      readonly runners: readonly RunnerSurvey[];
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
  const runners = fleetRunnerTokens(fleet);
  // Only a mixed fleet's messages say which runner: a one-runner fleet's read as they always did.
  const which = (runner: FleetRunnerToken) =>
    runners.length > 1 ? ` of the ${runner.onDemand ? 'on-demand' : 'spot'} runner (secret ${runner.tokenSecretName})` : '';
  let step = 'reading the runner token';
  try {
    const listed: Array<{ runner: FleetRunnerToken; runnerId: number; managers: RunnerManager[] }> = [];
    for (const runner of runners) {
      step = `reading the runner token${which(runner)}`;
      const runnerToken = await ports.runnerToken(fleet, runner);
      step = `resolving the runner id${which(runner)}`;
      const { id: runnerId } = await ports.gitlab.verifyRunner(runnerToken);
      step = 'reading the API token';
      const apiToken = await ports.apiToken();
      step = `listing runner managers${which(runner)}`;
      // GitLab first, AWS second: every listed manager was created before the instance listing,
      // so an instance that exists for it cannot be missed by a listing that started earlier.
      listed.push({ runner, runnerId, managers: await ports.gitlab.listRunnerManagers(runnerId, apiToken) });
    }
    step = 'listing instances';
    const existingInstanceIds = await ports.existingInstanceIds(fleet);
    return {
      fleet,
      status: 'surveyed',
      existingInstanceIds,
      runners: listed.map(({ runner, runnerId, managers }) => ({
        runner,
        runnerId,
        managers: classifyManagers({ managers, existingInstanceIds, now: options.now, graceMinutes: options.graceMinutes }),
      })),
    };
  } catch (error) {
    if (error instanceof FleetNotDeployedError) return { fleet, status: 'skipped', reason: error.message, failed: false };
    return { fleet, status: 'skipped', reason: `${step} failed: ${errorMessage(error)}`, failed: true };
  }
}

/** Every classified manager of a surveyed fleet, across its runners. */
export function surveyedManagers(survey: Extract<FleetSurvey, { status: 'surveyed' }>): ClassifiedManager[] {
  return survey.runners.flatMap((r) => r.managers);
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
