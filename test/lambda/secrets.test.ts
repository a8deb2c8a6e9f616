import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerTokens, tokenFromSecretString } from '../../lib/lambda/shared/secrets';

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

  it('names the layouts it accepts when a value starting with { is not JSON, without quoting the value', () => {
    const attempt = () => tokenFromSecretString('fleet/runner-token', '{token: value-4}');
    expect(attempt).toThrow(
      'secret fleet/runner-token starts with "{" but is not JSON; store the token as plain text or as {"token": "..."}',
    );
    expect(attempt).not.toThrow(/value-4/);
  });

  it('treats a secret without a string value (a binary secret) as empty', () => {
    expect(() => tokenFromSecretString('fleet/runner-token', undefined)).toThrow('secret fleet/runner-token is empty');
  });

  it('rejects a JSON token field that is only blanks', () => {
    expect(() => tokenFromSecretString('s', '{"token": "  "}')).toThrow(/JSON without a "token" string field/);
  });
});

describe('SecretsManagerTokens', () => {
  const client = new SecretsManagerClient({ region: 'eu-central-1' });
  const mock = mockClient(client);

  beforeEach(() => mock.reset());

  it('reads each secret once and remembers the tokens it read, for log scrubbing', async () => {
    mock.on(GetSecretValueCommand, { SecretId: 'a' }).resolves({ SecretString: 'value-a' });
    mock.on(GetSecretValueCommand, { SecretId: 'b' }).resolves({ SecretString: '{"token":"value-b"}' });
    const tokens = new SecretsManagerTokens(client);

    const read = await Promise.all([tokens.token('a'), tokens.token('a'), tokens.token('b')]);

    expect(read).toEqual(['value-a', 'value-a', 'value-b']);
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(tokens.known()).toEqual(['value-a', 'value-b']);
  });

  it('does not keep a failed read, so the next record tries again', async () => {
    mock
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: 'value-c' });
    const tokens = new SecretsManagerTokens(client);

    await expect(tokens.token('c')).rejects.toThrow('Rate exceeded');
    expect(await tokens.token('c')).toBe('value-c');
    expect(tokens.known()).toEqual(['value-c']);
  });
});
