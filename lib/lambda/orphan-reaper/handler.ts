/**
 * The orphan reaper's shell: on a schedule, surveys every fleet and deletes the managers the
 * core calls orphans (`DELETE /api/v4/runners/managers` with the token of the runner the manager
 * belongs to, and its system_id; a mixed fleet's on-demand managers belong to its second runner).
 * Returns and logs what it removed; ends in an error (Lambda Errors metric, alarm) when a
 * fleet could not be surveyed or a deletion failed, after doing everything else it could.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GitLabRunnerClient } from '../../gitlab/client';
import { HANDLER_CONFIG_FILE, type HandlerConfig } from '../shared/handler-config';
import { errorMessage, jsonLogger, type Logger } from '../shared/log';
import { withCurrentFleets, type FleetSource } from '../shared/fleet-source';
import { runtimeClients } from '../shared/runtime';
import type { TokenSource } from '../shared/secrets';
import { orphansOf } from './core';
import { listExistingInstanceIds } from './inventory';
import { mapLimited, surveyedManagers, surveyFleet, type FleetSurvey, type SurveyPorts } from './survey';

export interface RemovedManager {
  readonly fleet: string;
  /** The GitLab runner the manager belonged to (a mixed fleet has two). */
  readonly runnerId: number;
  readonly systemId: string;
  readonly createdAt: string;
  readonly contactedAt: string | null;
  readonly reason: string;
  readonly result: 'deleted' | 'already-gone';
}

export interface ReapReport {
  readonly removed: readonly RemovedManager[];
  readonly skipped: ReadonlyArray<{ readonly fleet: string; readonly reason: string; readonly failed: boolean }>;
  readonly failed: ReadonlyArray<{ readonly fleet: string; readonly runnerId: number; readonly systemId: string; readonly error: string }>;
  /** Managers looked at and kept, per fleet. */
  readonly kept: Readonly<Record<string, number>>;
}

export interface OrphanReaperDeps {
  readonly config: HandlerConfig;
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly gitlab: GitLabRunnerClient;
  readonly tokens: () => TokenSource;
  readonly now?: () => Date;
  /** @default JSON lines on stdout/stderr */
  readonly logger?: (tokens: TokenSource) => Logger;
  /**
   * Lists the fleets at each run (the fleet registry).
   * @default - the fleets in `config`
   */
  readonly fleetSource?: FleetSource;
}

/** Fleets surveyed at once: bounded so 100 fleets neither take long nor hammer GitLab. */
const FLEET_CONCURRENCY = 4;

export async function reapOrphans(deps: OrphanReaperDeps): Promise<ReapReport> {
  if (!deps.config.apiTokenSecretName) throw new Error(`${HANDLER_CONFIG_FILE}: apiTokenSecretName is required by the orphan reaper`);
  const apiTokenSecretName = deps.config.apiTokenSecretName;
  const tokens = deps.tokens();
  const log = deps.logger ? deps.logger(tokens) : jsonLogger(() => tokens.known());
  const config = await withCurrentFleets(deps.config, deps.fleetSource, log);
  const ports: SurveyPorts = {
    gitlab: deps.gitlab,
    runnerToken: (_fleet, runner) => tokens.token(runner.tokenSecretName),
    apiToken: () => tokens.token(apiTokenSecretName),
    existingInstanceIds: (fleet) => listExistingInstanceIds(deps.autoScaling, deps.ec2, fleet),
  };
  const options = { now: deps.now?.() ?? new Date(), graceMinutes: config.graceMinutes ?? 30 };
  const removed: RemovedManager[] = [];
  const skipped: Array<ReapReport['skipped'][number]> = [];
  const failed: Array<ReapReport['failed'][number]> = [];
  const kept: Record<string, number> = {};

  await mapLimited(config.fleets, FLEET_CONCURRENCY, async (fleet) => {
    const survey: FleetSurvey = await surveyFleet(fleet, ports, options);
    if (survey.status === 'skipped') {
      skipped.push({ fleet: fleet.name, reason: survey.reason, failed: survey.failed });
      log(survey.failed ? 'error' : 'info', 'fleet skipped', { fleet: fleet.name, outcome: 'skipped', reason: survey.reason });
      return;
    }
    const managers = surveyedManagers(survey);
    kept[fleet.name] = managers.length - orphansOf(managers).length;
    for (const { runner, runnerId, managers: classified } of survey.runners) {
      for (const orphan of orphansOf(classified)) {
        const systemId = orphan.manager.system_id;
        try {
          const result = await deps.gitlab.deleteRunnerManager(await ports.runnerToken(fleet, runner), systemId);
          removed.push({
            fleet: fleet.name,
            runnerId,
            systemId,
            createdAt: orphan.manager.created_at,
            contactedAt: orphan.manager.contacted_at,
            reason: orphan.reason,
            result,
          });
          log('info', 'orphan removed', { fleet: fleet.name, runnerId, systemId, outcome: result, reason: orphan.reason });
        } catch (error) {
          failed.push({ fleet: fleet.name, runnerId, systemId, error: errorMessage(error) });
          log('error', 'orphan not removed', { fleet: fleet.name, runnerId, systemId, outcome: 'failed', error: errorMessage(error) });
        }
      }
    }
  });

  log('info', 'orphan reaper finished', {
    outcome: failed.length > 0 || skipped.some((s) => s.failed) ? 'incomplete' : 'complete',
    removed: removed.length,
    skipped: skipped.length,
    failed: failed.length,
  });
  return { removed, skipped, failed, kept };
}

let defaults: OrphanReaperDeps | undefined;

/** Dependencies in the Lambda runtime: config file beside the bundle, clients reused across invocations. */
function runtimeDeps(): OrphanReaperDeps {
  defaults ??= runtimeClients(__dirname, 10_000);
  return defaults;
}

/** Lambda entry point (EventBridge schedule). */
export async function handler(): Promise<ReapReport> {
  const report = await reapOrphans(runtimeDeps());
  const failedFleets = report.skipped.filter((s) => s.failed).length;
  if (failedFleets > 0 || report.failed.length > 0) {
    // After the work is done: makes the run count as an error for the alarm, the report is in the logs.
    throw new Error(
      `orphan reaper incomplete: ${failedFleets} fleet(s) not surveyed, ${report.failed.length} deletion(s) failed, ${report.removed.length} removed`,
    );
  }
  return report;
}
