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

/** `runner_type` of `POST /api/v4/user/runners`. */
export type RunnerType = 'instance_type' | 'group_type' | 'project_type';

/** Runner settings shared by create (`POST /user/runners`) and update (`PUT /runners/:id`). */
export interface RunnerSettings {
  readonly description: string;
  readonly tag_list: readonly string[];
  readonly run_untagged: boolean;
  readonly locked: boolean;
  readonly access_level: 'not_protected' | 'ref_protected';
  readonly paused: boolean;
  /** Seconds. */
  readonly maximum_timeout: number;
}

/** Answer of `POST /api/v4/user/runners`; `token` is a secret and is shown once. */
export interface CreatedRunner {
  readonly id: number;
  readonly token: string;
  readonly tokenExpiresAt: string | null;
}

/** `GET /api/v4/runners/:id` (the fields this project reads). */
export interface RunnerDetails {
  readonly id: number;
  readonly description?: string;
  readonly tag_list?: string[];
  readonly run_untagged?: boolean;
  readonly locked?: boolean;
  readonly paused?: boolean;
  readonly active?: boolean;
  readonly access_level?: string;
  readonly maximum_timeout?: number | null;
  /** `online`, `offline`, `stale`, `never_contacted`. */
  readonly status?: string;
  readonly online?: boolean | null;
  readonly runner_type?: string;
}

/** What a runner deletion ended in; both mean the runner no longer exists. */
export type DeleteRunnerResult = 'deleted' | 'already-gone';
