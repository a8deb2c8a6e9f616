/**
 * The decision core of the GitLab job-events webhook: is the request allowed, is it a job event,
 * which fleet's demand does it change. Pure apart from node:crypto; no CDK, no AWS SDK.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { fleetForJobTags, type DemandHandlerConfig } from '../shared/demand-config';

/** Job events are a few KB; anything far larger is not one, and is refused before parsing. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

/** GitLab's X-Gitlab-Event value for job events. */
export const JOB_HOOK_EVENT = 'Job Hook';

/** Order of a job's statuses, so a late `pending` never undoes a `running` seen before it. */
export const JOB_STATUS_RANK: Readonly<Record<string, number>> = {
  created: 0,
  pending: 1,
  running: 2,
  success: 3,
  failed: 3,
  canceled: 3,
  skipped: 3,
  manual: 3,
};

/**
 * The fleet of a signal for a pending job whose event named no tags (GitLab's documented job
 * event has none, see {@link jobEventTags}): the scaler then polls GitLab's pending jobs at once,
 * whose `tag_list` names the fleet.
 */
export const UNTAGGED_PENDING = '';

/** The message queued for the scaler: one job's status change, for one fleet ({@link UNTAGGED_PENDING} when not known yet). */
export interface JobSignal {
  readonly fleet: string;
  readonly jobId: number;
  readonly status: string;
  readonly rank: number;
  /** The job's project, on {@link UNTAGGED_PENDING} signals: the scaler polls that project's pending jobs. */
  readonly projectId?: number;
}

export type WebhookVerdict =
  | { readonly kind: 'reject'; readonly status: 401 | 400 | 413; readonly reason: string }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'signal'; readonly signal: JobSignal; readonly timeToStartSeconds?: number };

/**
 * Compares the X-Gitlab-Token with the expected secret in constant time: both are hashed first,
 * so neither the content nor the length of the secret leaks through timing.
 */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || given === '' || expected === '') return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Size, then authentication, then shape. Headers are lower-case, as function URLs deliver them. */
export function judgeWebhook(
  request: { readonly headers: Readonly<Record<string, string | undefined>>; readonly body: string },
  expectedToken: string,
  config: Pick<DemandHandlerConfig, 'fleets' | 'poll'>,
): WebhookVerdict {
  if (Buffer.byteLength(request.body, 'utf8') > MAX_WEBHOOK_BODY_BYTES) {
    return { kind: 'reject', status: 413, reason: `body over ${MAX_WEBHOOK_BODY_BYTES} bytes` };
  }
  if (!tokenMatches(request.headers['x-gitlab-token'], expectedToken)) {
    return { kind: 'reject', status: 401, reason: 'missing or wrong X-Gitlab-Token' };
  }
  if (request.headers['x-gitlab-event'] !== JOB_HOOK_EVENT) return { kind: 'ignore', reason: 'not a job event' };
  let payload: unknown;
  try {
    payload = JSON.parse(request.body);
  } catch {
    return { kind: 'reject', status: 400, reason: 'body is not JSON' };
  }
  return classifyJobEvent(payload, config);
}

/** Which fleet's demand a job event changes, if any. */
export function classifyJobEvent(payload: unknown, config: Pick<DemandHandlerConfig, 'fleets' | 'poll'>): WebhookVerdict {
  if (!isRecord(payload) || payload.object_kind !== 'build') return { kind: 'ignore', reason: 'not a build object' };
  const jobId = payload.build_id;
  const status = payload.build_status;
  if (typeof jobId !== 'number' || typeof status !== 'string') return { kind: 'ignore', reason: 'no build_id or build_status' };
  const rank = JOB_STATUS_RANK[status];
  if (rank === undefined || rank === 0) return { kind: 'ignore', reason: `status ${status} does not change demand` };
  const tags = jobEventTags(payload);
  if (tags.length === 0) {
    // A pending job without tags may be any fleet's: with the poll configured, the scaler reads GitLab's pending jobs now.
    if (rank === 1 && config.poll) {
      const projectId = typeof payload.project_id === 'number' ? payload.project_id : undefined;
      return { kind: 'signal', signal: { fleet: UNTAGGED_PENDING, jobId, status, rank, ...(projectId ? { projectId } : {}) } };
    }
    return {
      kind: 'ignore',
      reason: `a ${status} job event without job tags (no build_tags, no runner yet): only the poll fallback can count it`,
    };
  }
  const fleet = fleetForJobTags(config, tags);
  if (!fleet) return { kind: 'ignore', reason: 'no fleet carries all the job tags' };
  // build_queued_duration: seconds the job waited between queued and started, "duration in seconds"
  // in the documented example; set once the job runs.
  const queued = payload.build_queued_duration;
  const timeToStartSeconds = status === 'running' && typeof queued === 'number' && queued >= 0 ? queued : undefined;
  return { kind: 'signal', signal: { fleet: fleet.name, jobId, status, rank }, timeToStartSeconds };
}

/**
 * The tags that place a job event on a fleet.
 *
 * GitLab's documented job event (webhook events reference, "Job events",
 * https://docs.gitlab.com/user/project/integrations/webhook_events/#job-events; built by
 * Gitlab::DataBuilder::Build in lib/gitlab/data_builder/build.rb) carries no list of the job's own
 * tags: only `runner.tags`, the tags of the runner that took the job, and `runner` is null until a
 * runner took it. So, in order:
 * - `build_tags`, the job's tags, where a GitLab sends them (proposed in gitlab-org/gitlab!140760;
 *   not in the documented payload, so not to be relied on);
 * - `runner.tags` (documented): places running and finished jobs, and their time to start, on the
 *   fleet whose runner took them;
 * - none: a pending job then makes the scaler poll GitLab's pending jobs at once (the jobs API has
 *   `tag_list`), when the poll fallback is configured.
 */
export function jobEventTags(payload: Readonly<Record<string, unknown>>): string[] {
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : []);
  const jobTags = strings(payload.build_tags);
  if (jobTags.length > 0) return jobTags;
  return isRecord(payload.runner) ? strings(payload.runner.tags) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
