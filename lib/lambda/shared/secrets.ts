/**
 * Reads runner and API tokens from Secrets Manager, once per secret per invocation: tokens
 * can be rotated, so nothing is kept across invocations.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Something that yields a token by secret name. */
export interface TokenSource {
  token(secretName: string): Promise<string>;
  /** Every token read so far, so logs can be scrubbed of them. */
  known(): readonly string[];
}

/**
 * The token inside a secret value: the plain string, or the `token` field of a JSON object
 * (both layouts are common for hand-made secrets).
 */
export function tokenFromSecretString(secretName: string, value: string | undefined): string {
  const text = (value ?? '').trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`secret ${secretName} starts with "{" but is not JSON; store the token as plain text or as {"token": "..."}`);
    }
    const token = (parsed as { token?: unknown }).token;
    if (typeof token !== 'string' || token.trim() === '') throw new Error(`secret ${secretName} is JSON without a "token" string field`);
    return token.trim();
  }
  if (text === '') throw new Error(`secret ${secretName} is empty`);
  return text;
}

/** Per-invocation cache over a Secrets Manager client. */
export class SecretsManagerTokens implements TokenSource {
  private readonly cache = new Map<string, Promise<string>>();
  private readonly values: string[] = [];

  constructor(private readonly client: SecretsManagerClient) {}

  token(secretName: string): Promise<string> {
    let pending = this.cache.get(secretName);
    if (!pending) {
      pending = this.client.send(new GetSecretValueCommand({ SecretId: secretName })).then((out) => {
        const token = tokenFromSecretString(secretName, out.SecretString);
        this.values.push(token);
        return token;
      });
      // A failed read is not cached, so the next record may try again.
      pending.catch(() => this.cache.delete(secretName));
      this.cache.set(secretName, pending);
    }
    return pending;
  }

  known(): readonly string[] {
    return this.values;
  }
}
