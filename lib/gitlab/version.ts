/**
 * Which GitLab versions have the endpoints this project needs, and a check of the version a GitLab
 * reports (`GET /api/v4/version`) before using them: a GitLab too old for a feature gets one
 * readable line naming the version found, the version needed and the feature, instead of a bare
 * 404 halfway through. The check never blocks on anything but a readable, too-old version: a
 * version endpoint the token may not read (401/403), that does not answer (404, 5xx, network) or
 * that answers something unreadable is reported as a warning, and the caller goes on.
 *
 * No AWS SDK; the client is injected, so the Lambdas and the CLI share this.
 */
import { GitLabApiError } from './errors';

/** A capability and the oldest GitLab that has it. */
export interface GitLabFeature {
  /** What needs the version, in words for an error line. */
  readonly name: string;
  /** Oldest GitLab version (major.minor) with the feature. */
  readonly minimum: string;
}

/**
 * The features with a minimum version. Sources: `POST /user/runners` came with GitLab 15.10 and
 * the `create_runner` token scope with 16.1, but updating and deleting the runner with a scoped
 * token needs the `manage_runner` scope (GitLab 17.1, gitlab-org/gitlab!153285); the runner
 * managers list, `GET /runners/:id/managers`, came with 17.1 too (gitlab-org/gitlab!153715).
 */
export const GITLAB_FEATURES = {
  runnerCreation: {
    name: 'creating and managing runners with an access token (POST /api/v4/user/runners, scopes create_runner and manage_runner)',
    minimum: '17.1',
  },
  runnerManagers: { name: 'listing runner managers (GET /api/v4/runners/:id/managers)', minimum: '17.1' },
} as const satisfies Record<string, GitLabFeature>;

/** A version as major.minor; undefined when `text` does not start with one ("17.5.1-ee" is 17.5). */
export function parseGitLabVersion(text: string): { readonly major: number; readonly minor: number } | undefined {
  const match = /^v?(\d+)\.(\d+)(?:[.\-+~\s]|$)/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** True when `version` is at least `minimum` (both major.minor or longer). */
export function versionAtLeast(version: { major: number; minor: number }, minimum: string): boolean {
  const min = parseGitLabVersion(minimum);
  if (!min) throw new Error(`minimum version ${JSON.stringify(minimum)} is not major.minor`);
  return version.major > min.major || (version.major === min.major && version.minor >= min.minor);
}

/** The GitLab reports a version older than a feature needs. */
export class GitLabVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitLabVersionError';
  }
}

/**
 * The error line for `found` when it is older than some of `features` need; undefined when it is
 * new enough for all of them.
 */
export function versionProblem(found: string, features: readonly GitLabFeature[], gitlabUrl?: string): string | undefined {
  const version = parseGitLabVersion(found);
  if (!version) return undefined;
  const missing = features.filter((f) => !versionAtLeast(version, f.minimum));
  if (missing.length === 0) return undefined;
  const needs = missing.map((f) => `${f.name} needs GitLab ${f.minimum} or later`).join('; ');
  return `GitLab${gitlabUrl ? ` at ${gitlabUrl}` : ''} is version ${found}, too old: ${needs}. Upgrade GitLab, or point gitlab.url at one that is new enough.`;
}

/** What the check needs from the GitLab client. */
export interface VersionSource {
  version(apiToken: string): Promise<{ readonly version: string }>;
}

/**
 * Reads the GitLab version with `apiToken` and throws {@link GitLabVersionError} when it is
 * readable and older than `features` need. Anything else (no access, no answer, an unreadable
 * version) goes to `warn` and the check passes: the calls that follow report their own errors.
 * Returns the version found, if any.
 */
export async function requireGitLabVersion(
  gitlab: VersionSource,
  apiToken: string,
  features: readonly GitLabFeature[],
  warn: (message: string) => void,
  gitlabUrl?: string,
): Promise<string | undefined> {
  let found: string;
  try {
    found = (await gitlab.version(apiToken)).version;
  } catch (error) {
    const why =
      error instanceof GitLabApiError && (error.status === 401 || error.status === 403)
        ? `the token may not read it (HTTP ${error.status}; the version endpoint needs the read_api or api scope)`
        : error instanceof GitLabApiError && error.status === 404
          ? 'GitLab has no GET /api/v4/version (HTTP 404)'
          : `it did not answer (${error instanceof Error ? error.message : String(error)})`;
    warn(`could not check the GitLab version: ${why}; going on without the check`);
    return undefined;
  }
  const problem = versionProblem(found, features, gitlabUrl);
  if (problem) throw new GitLabVersionError(problem);
  if (!parseGitLabVersion(found))
    warn(`GitLab reports version ${JSON.stringify(found.slice(0, 40))}, which is not major.minor; going on without the check`);
  return found;
}
