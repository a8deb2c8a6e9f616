/**
 * Exponential backoff with jitter for GitLab calls. Jitter matters here: when a GitLab
 * outage ends, every Lambda and drain agent retrying at the same instant would knock it over again.
 */

export interface BackoffOptions {
  /** Delay before the second attempt, in ms. */
  readonly baseDelayMs: number;
  /** Upper bound of any single delay, in ms. */
  readonly maxDelayMs: number;
  /** Source of randomness in [0, 1); injected so tests are deterministic. */
  readonly random: () => number;
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): half the exponential step
 * fixed, half random ("equal jitter"), so retries never bunch at zero delay.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * options.random());
}

/** True for HTTP statuses that a later attempt may not see: server errors and rate limits. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
