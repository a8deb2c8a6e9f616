import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { errorMessage, jsonLogger } from '../../lib/lambda/shared/log';
import { fakeRunnerToken } from '../support/fake-gitlab';

describe('JSON logger', () => {
  let stdout: string[];
  let stderr: string[];

  beforeEach(() => {
    stdout = [];
    stderr = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void stdout.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(line));
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes info as one JSON line on stdout with level, message and fields', () => {
    jsonLogger()('info', 'handled', { instanceId: 'i-1', outcome: 'cleaned-up' });
    expect(stderr).toEqual([]);
    expect(JSON.parse(stdout[0])).toEqual({ level: 'info', message: 'handled', instanceId: 'i-1', outcome: 'cleaned-up' });
  });

  it('writes warnings on stdout too', () => {
    jsonLogger()('warn', 'slow');
    expect(stdout.map((l) => JSON.parse(l))).toEqual([{ level: 'warn', message: 'slow' }]);
  });

  it('writes errors on stderr', () => {
    jsonLogger()('error', 'failed', { outcome: 'failed' });
    expect(stdout).toEqual([]);
    expect(JSON.parse(stderr[0])).toMatchObject({ level: 'error', outcome: 'failed' });
  });

  it('scrubs the secrets it is told about, asked at each line so late-read tokens count', () => {
    // GIVEN a secret that becomes known after the logger was built
    const known: string[] = [];
    const log = jsonLogger(() => known);
    known.push('s3cret-value');
    // WHEN a field carries it
    log('error', 'failed', { error: 'auth with s3cret-value refused' });
    // THEN it is redacted
    expect(stderr[0]).not.toContain('s3cret-value');
    expect(JSON.parse(stderr[0]).error).toBe('auth with [redacted] refused');
  });

  it('scrubs token-shaped values it was not told about', () => {
    const token = fakeRunnerToken('log');
    jsonLogger()('info', `token ${token}`);
    expect(stdout[0]).not.toContain(token);
    expect(stdout[0]).toContain('[redacted]');
  });
});

describe('error messages for logs', () => {
  it('keeps the error name and message, not the stack', () => {
    const error = Object.assign(new Error('boom'), { name: 'ThrottlingException' });
    expect(errorMessage(error)).toBe('ThrottlingException: boom');
  });

  it('stringifies what was thrown when it is not an Error', () => {
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
