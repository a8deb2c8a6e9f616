/**
 * Errors from the GitLab runner API client. Messages carry the method, path and status so an
 * operator can act on them, and never a token: anything token-shaped is scrubbed, because
 * these messages end up in Lambda logs and CLI output.
 */

const TOKEN_SHAPED = /\b(glrt|glpat|gldt|glrtr|glcbt|glptt|gloas|glsoat|glimt|glagent|glffct|glft)-[A-Za-z0-9_-]{4,}/g;

/** Replaces the given secrets and anything shaped like a GitLab token with `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(TOKEN_SHAPED, '[redacted]');
}

export interface GitLabApiErrorDetails {
  readonly method: string;
  readonly path: string;
  /** HTTP status, or undefined when no response arrived (timeout, reset, refused). */
  readonly status?: number;
  /** True for failures worth trying again later: 5xx, 429, timeouts, connection errors. */
  readonly retryable: boolean;
  readonly attempts: number;
}

/** A GitLab API call that failed after all attempts, or with a status that retrying cannot fix. */
export class GitLabApiError extends Error implements GitLabApiErrorDetails {
  public readonly method: string;
  public readonly path: string;
  public readonly status?: number;
  public readonly retryable: boolean;
  public readonly attempts: number;

  constructor(message: string, details: GitLabApiErrorDetails) {
    super(message);
    this.name = 'GitLabApiError';
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.retryable = details.retryable;
    this.attempts = details.attempts;
  }
}
