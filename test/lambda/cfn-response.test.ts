import { describe, expect, it } from 'vitest';
import { responseDocument, settleBeforeTimeout } from '../../lib/lambda/shared/cfn-response';

const REQUEST = { StackId: 'stack-1', RequestId: 'request-1', LogicalResourceId: 'CatchUp' };

describe('responseDocument', () => {
  it('given a long reason and extra fields, then the document names the request, cuts the reason to 3,500 characters and keeps the extras', () => {
    const document = JSON.parse(
      responseDocument(REQUEST, { Status: 'FAILED', Reason: 'x'.repeat(5000), PhysicalResourceId: 'id-1' }, { NoEcho: true }),
    );

    expect(document).toEqual({ ...REQUEST, Status: 'FAILED', Reason: 'x'.repeat(3500), PhysicalResourceId: 'id-1', NoEcho: true });
  });

  it('given no reason, then the document has none', () => {
    expect(JSON.parse(responseDocument(REQUEST, { Status: 'SUCCESS', PhysicalResourceId: 'id-1' }))).not.toHaveProperty('Reason');
  });
});

describe('settleBeforeTimeout', () => {
  it('given work that finishes first, then its result is returned', async () => {
    expect(await settleBeforeTimeout(Promise.resolve('done'), 60_000, 5_000, () => 'late')).toBe('done');
  });

  it('given work that never finishes, then the timeout answer comes once only the margin is left', async () => {
    expect(await settleBeforeTimeout(new Promise<string>(() => {}), 5_010, 5_000, () => 'late')).toBe('late');
  });

  it('given no known remaining time, then it waits for the work', async () => {
    expect(await settleBeforeTimeout(Promise.resolve('done'), undefined, 5_000, () => 'late')).toBe('done');
  });
});
