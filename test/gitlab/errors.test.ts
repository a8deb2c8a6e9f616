import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isRetryableStatus, redactSecrets } from '../../lib/gitlab';

describe('redactSecrets', () => {
  it('removes a given secret wherever it appears', () => {
    const secret = 'abcd1234secret';

    expect(redactSecrets(`token=${secret}&x=${secret}`, [secret])).toBe('token=[redacted]&x=[redacted]');
  });

  it('removes GitLab-token-shaped strings it was not told about', () => {
    const token = ['glpat', 'A1b2C3d4E5f6G7h8'].join('-');

    expect(redactSecrets(`bad token ${token} used`)).toBe('bad token [redacted] used');
  });

  it('ignores secrets shorter than four characters, which would shred the message', () => {
    // GIVEN an empty or one-letter "secret" (e.g. an unset secret value)
    // WHEN a message is scrubbed with it
    const out = redactSecrets('GitLab DELETE /api/v4/runners/managers failed', ['', 'a']);
    // THEN the message is left readable
    expect(out).toBe('GitLab DELETE /api/v4/runners/managers failed');
  });
});

describe('backoffDelayMs', () => {
  it('doubles per attempt and stays within half to all of the step', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 10_000 };

    expect(backoffDelayMs(3, { ...options, random: () => 0 })).toBe(200);
    expect(backoffDelayMs(3, { ...options, random: () => 0.999999 })).toBe(400);
  });

  it('never exceeds maxDelayMs', () => {
    expect(backoffDelayMs(20, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 })).toBe(1000);
  });
});

describe('isRetryableStatus', () => {
  it('retries server errors and rate limits but not client errors', () => {
    expect([500, 502, 503, 429, 408].map(isRetryableStatus)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 422].map(isRetryableStatus)).toEqual([false, false, false, false, false]);
  });
});
