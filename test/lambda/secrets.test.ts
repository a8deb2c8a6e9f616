import { describe, expect, it } from 'vitest';
import { tokenFromSecretString } from '../../lib/lambda/shared/secrets';

describe('tokenFromSecretString', () => {
  it('takes a plain secret value as the token, trimmed', () => {
    expect(tokenFromSecretString('s', '  value-1\n')).toBe('value-1');
  });

  it('takes the token field of a JSON secret', () => {
    expect(tokenFromSecretString('s', '{"token": "value-2"}')).toBe('value-2');
  });

  it('names the secret, not its value, when the JSON has no token field', () => {
    expect(() => tokenFromSecretString('fleet/runner-token', '{"tok": "value-3"}')).toThrow(
      /fleet\/runner-token is JSON without a "token"/,
    );
    expect(() => tokenFromSecretString('fleet/runner-token', '{"tok": "value-3"}')).not.toThrow(/value-3/);
  });

  it('rejects an empty secret', () => {
    expect(() => tokenFromSecretString('s', '  ')).toThrow(/s is empty/);
  });
});
