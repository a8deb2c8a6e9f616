/**
 * The poll fallback's view of GitLab: the jobs waiting for a runner, for setups without a
 * job-events webhook. Two sources, by what the token may read:
 * - per project, `GET /api/v4/projects/:id/jobs?scope[]=pending` (a token with `read_api` on
 *   each project: a project, group or personal access token; every tier);
 * - instance-wide, `GET /api/v4/jobs?scope[]=pending` (an administrator's token, self-managed).
 *
 * The requests go through the GitLab client (timeouts, retries with jitter, `Retry-After`,
 * token scrubbing); build it with `failOnLongRetryAfter` so a long rate limit fails the tick
 * instead of holding the scaler.
 */
import type { GitLabRunnerClient } from './client';

export interface PendingJob {
  readonly id: number;
  readonly tagList: readonly string[];
}

/** Pages read per source at most: 2,000 pending jobs a project is more than any fleet can take in one tick. */
export const PENDING_JOBS_MAX_PAGES = 20;

/** Pending jobs of the given projects, or instance-wide when `projectIds` is empty (admin token). */
export async function listPendingJobs(
  client: GitLabRunnerClient,
  token: string,
  projectIds: readonly number[],
  maxPages = PENDING_JOBS_MAX_PAGES,
): Promise<PendingJob[]> {
  const paths =
    projectIds.length > 0 ? projectIds.map((id) => `/api/v4/projects/${encodeURIComponent(String(id))}/jobs`) : ['/api/v4/jobs'];
  const jobs = new Map<number, PendingJob>();
  for (const path of paths) {
    const page = await client.listPages<{ id?: unknown; tag_list?: unknown }>(token, path, { 'scope[]': 'pending' }, maxPages);
    for (const job of page) {
      if (typeof job.id !== 'number') continue;
      const tags = Array.isArray(job.tag_list) ? job.tag_list.filter((t): t is string => typeof t === 'string') : [];
      jobs.set(job.id, { id: job.id, tagList: tags });
    }
  }
  return [...jobs.values()];
}
