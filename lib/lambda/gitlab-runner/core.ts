/**
 * The decision core of the `gitlab-runner` custom resource: reads the resource properties,
 * decides what a CloudFormation request means for the GitLab runner object, and turns GitLab
 * failures into a CloudFormation failure reason a person can act on. Pure: no AWS SDK, no HTTP.
 *
 * Which runner the resource owns is read from its token secret (`POST /runners/verify` of the
 * token there), not kept in the physical id: `runner-fleet rotate-token` replaces the runner
 * out of band, and the resource then manages the replacement. The physical id is stable.
 * Settings always come from the properties, the configuration, never from the runner found
 * (seed 001: persisted state must not override new configuration).
 */
import type { RunnerDetails, RunnerSettings, RunnerType } from '../../gitlab/types';
import { GITLAB_FEATURES } from '../../gitlab/version';

/** Oldest GitLab with POST /user/runners, the create_runner and the manage_runner scopes. */
export const MIN_GITLAB_VERSION = GITLAB_FEATURES.runnerCreation.minimum;

export interface RunnerResourceProperties {
  readonly fleetName: string;
  readonly computeType: 'spot' | 'on-demand';
  readonly runnerType: RunnerType;
  /** Group or project id or full path; absent for instance runners. */
  readonly namespace?: string;
  /** Secret with the GitLab access token (create_runner, manage_runner). */
  readonly accessTokenSecretId: string;
  /** Secret the runner's glrt- token is written to. */
  readonly tokenSecretId: string;
  readonly settings: RunnerSettings;
}

const RUNNER_TYPES: readonly RunnerType[] = ['instance_type', 'group_type', 'project_type'];

/**
 * Reads the properties as CloudFormation delivers them (every scalar a string). Throws naming
 * the property at fault.
 */
export function parseRunnerProperties(raw: Record<string, unknown> | undefined): RunnerResourceProperties {
  const props = raw ?? {};
  const problems: string[] = [];
  const text = (key: string): string => {
    const value = props[key];
    if (typeof value !== 'string' || value === '') {
      problems.push(`${key} must be a non-empty string`);
      return '';
    }
    return value;
  };
  const flag = (key: string): boolean => {
    const value = String(props[key]);
    if (value !== 'true' && value !== 'false') problems.push(`${key} must be true or false, got ${JSON.stringify(props[key])}`);
    return value === 'true';
  };
  const computeType = text('ComputeType');
  if (computeType && computeType !== 'spot' && computeType !== 'on-demand') problems.push('ComputeType must be spot or on-demand');
  const runnerType = text('RunnerType') as RunnerType;
  if (runnerType && !RUNNER_TYPES.includes(runnerType)) problems.push(`RunnerType must be one of ${RUNNER_TYPES.join(', ')}`);
  const namespace = props.Namespace === undefined || props.Namespace === '' ? undefined : String(props.Namespace);
  if (runnerType !== 'instance_type' && namespace === undefined) problems.push(`Namespace is required for ${runnerType}`);
  const tags = props.TagList;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) problems.push('TagList must be a list of strings');
  const accessLevel = text('AccessLevel');
  if (accessLevel && accessLevel !== 'not_protected' && accessLevel !== 'ref_protected')
    problems.push('AccessLevel must be not_protected or ref_protected');
  const timeout = Number(props.MaximumTimeout);
  if (!Number.isInteger(timeout) || timeout < 600) problems.push('MaximumTimeout must be whole seconds, at least 600');
  const parsed: RunnerResourceProperties = {
    fleetName: text('FleetName'),
    computeType: computeType as RunnerResourceProperties['computeType'],
    runnerType,
    namespace,
    accessTokenSecretId: text('AccessTokenSecretId'),
    tokenSecretId: text('TokenSecretId'),
    settings: {
      description: text('Description'),
      tag_list: Array.isArray(tags) ? (tags as string[]) : [],
      run_untagged: flag('RunUntagged'),
      locked: flag('Locked'),
      access_level: accessLevel as RunnerSettings['access_level'],
      paused: flag('Paused'),
      maximum_timeout: timeout,
    },
  };
  if (problems.length > 0) throw new Error(`invalid gitlab-runner resource properties: ${problems.join('; ')}`);
  return parsed;
}

/** The stable physical id: names the fleet and compute type, never a runner id or token. */
export function physicalResourceId(props: Pick<RunnerResourceProperties, 'fleetName' | 'computeType'>): string {
  return `gitlab-runner-fleet-${props.fleetName}-${props.computeType}-runner`;
}

export type RunnerPlan =
  /** An Update whose properties did not change: nothing to ask GitLab. */
  | { readonly kind: 'unchanged' }
  /** Make GitLab match the properties: adopt the runner in the secret, or create one. */
  | { readonly kind: 'converge'; readonly props: RunnerResourceProperties }
  /** Delete the runner in the secret, if any. */
  | { readonly kind: 'delete'; readonly props: RunnerResourceProperties };

export interface RunnerResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties?: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

export function planRunnerRequest(event: RunnerResourceEvent): RunnerPlan {
  const props = parseRunnerProperties(event.ResourceProperties);
  if (event.RequestType === 'Delete') return { kind: 'delete', props };
  if (event.RequestType === 'Update' && sameProperties(event.ResourceProperties, event.OldResourceProperties)) return { kind: 'unchanged' };
  return { kind: 'converge', props };
}

function sameProperties(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  const canonical = (value: Record<string, unknown> | undefined) => {
    const { ServiceToken: _ignored, ...rest } = value ?? {};
    return JSON.stringify(rest, Object.keys(rest).sort());
  };
  return canonical(a) === canonical(b);
}

/** What converging does with the runner the secret names (undefined: no valid runner token there). */
export function convergeAction(
  props: RunnerResourceProperties,
  current: RunnerDetails | undefined,
): { readonly kind: 'create' } | { readonly kind: 'update'; readonly id: number } | { readonly kind: 'in-sync'; readonly id: number } {
  if (!current) return { kind: 'create' };
  // A runner of another type (the scope changed) cannot be moved; a new one replaces it.
  if (current.runner_type !== undefined && current.runner_type !== props.runnerType) return { kind: 'create' };
  return settingsDiffer(props.settings, current) ? { kind: 'update', id: current.id } : { kind: 'in-sync', id: current.id };
}

/** True when any setting the fleet owns differs from the runner's (tag order does not matter). */
export function settingsDiffer(wanted: RunnerSettings, current: RunnerDetails): boolean {
  const tags = (list: readonly string[] | undefined) => [...(list ?? [])].sort().join(',');
  return (
    wanted.description !== current.description ||
    tags(wanted.tag_list) !== tags(current.tag_list) ||
    wanted.run_untagged !== current.run_untagged ||
    wanted.locked !== current.locked ||
    wanted.access_level !== current.access_level ||
    wanted.paused !== current.paused ||
    wanted.maximum_timeout !== current.maximum_timeout
  );
}

/** A GitLab failure as its status and message (the shape of GitLabApiError, without importing it). */
export interface GitLabFailure {
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  readonly message: string;
}

/**
 * The CloudFormation failure reason for a failed GitLab call: what GitLab said plus what to do,
 * naming the access token's secret and the scope or version it needs. Never holds a token:
 * callers pass the message through redaction too.
 */
export function failureReason(
  error: GitLabFailure,
  props: Pick<RunnerResourceProperties, 'accessTokenSecretId' | 'runnerType' | 'namespace'>,
): string {
  const secret = `the access token in secret ${props.accessTokenSecretId}`;
  const creating = error.method === 'POST' && error.path === '/api/v4/user/runners';
  let advice = '';
  if (error.status === 401) advice = `${secret} is invalid, expired or revoked: put a valid token there and retry the deployment.`;
  else if (error.status === 403 && /insufficient_scope/.test(error.message))
    advice = `${secret} lacks a scope: it needs create_runner to create runners and manage_runner to update and delete them (GitLab ${MIN_GITLAB_VERSION}+).`;
  else if (error.status === 403)
    advice =
      props.runnerType === 'instance_type'
        ? `${secret} belongs to a user who may not manage instance runners (administrator needed).`
        : `${secret} belongs to a user without the Owner role (group) or Maintainer role (project) on ${props.namespace}.`;
  else if (error.status === 404 && creating)
    advice = `GitLab has no POST /api/v4/user/runners: it is older than 15.10 (this fleet needs GitLab ${MIN_GITLAB_VERSION} or later), or the ${props.runnerType === 'group_type' ? 'group' : 'project'} is not visible to the token.`;
  else if (error.status === 404 && /\/api\/v4\/(groups|projects)\//.test(error.path ?? ''))
    advice = `${props.namespace} is not a ${props.runnerType === 'group_type' ? 'group' : 'project'} the token can see (a full path also needs the read_api scope; an id does not).`;
  else if (error.status === 400) advice = 'GitLab rejected the runner settings.';
  return advice ? `${error.message}. ${advice}` : error.message;
}
