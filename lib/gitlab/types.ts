/** Shapes of the GitLab REST API v4 runner endpoints this project uses. */

/** One machine registered with a runner's token (`GET /api/v4/runners/:id/managers`). */
export interface RunnerManager {
  readonly id: number;
  readonly system_id: string;
  readonly created_at: string;
  readonly contacted_at: string | null;
  readonly status?: string;
  readonly version?: string;
  readonly platform?: string;
  readonly architecture?: string;
  readonly ip_address?: string;
}

/** Answer of `POST /api/v4/runners/verify`: the runner the token belongs to. */
export interface VerifiedRunner {
  readonly id: number;
}

/** What a manager deletion ended in. Both mean "this machine is no longer registered". */
export type DeleteManagerResult = 'deleted' | 'already-gone';

/** One job of `GET /api/v4/runners/:id/jobs`, as far as the safety net reads it. */
export interface RunnerJob {
  readonly id: number;
  readonly status: string;
  readonly project?: { readonly id: number };
  /** The machine that ran the job; absent in GitLab versions whose job entity does not name it. */
  readonly runner_manager?: { readonly system_id?: string } | null;
}
