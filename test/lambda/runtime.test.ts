import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLER_CONFIG_FILE } from '../../lib/lambda/shared/handler-config';
import { runtimeClients } from '../../lib/lambda/shared/runtime';

describe('Lambda runtime clients', () => {
  it('read the handler config shipped beside the bundle and point the GitLab client at its URL', () => {
    // GIVEN a bundle directory with its handler config
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    writeFileSync(join(dir, HANDLER_CONFIG_FILE), JSON.stringify({ gitlabUrl: 'https://gitlab.example.com', fleets: [] }));
    // WHEN the runtime clients are built
    const clients = runtimeClients(dir, 1234);
    // THEN they carry that config, and every invocation gets its own token source
    expect(clients.config.gitlabUrl).toBe('https://gitlab.example.com');
    expect(clients.tokens()).not.toBe(clients.tokens());
  });

  it('refuse a bundle without a valid handler config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    writeFileSync(join(dir, HANDLER_CONFIG_FILE), JSON.stringify({ fleets: [] }));
    expect(() => runtimeClients(dir, 1000)).toThrow(/gitlabUrl must be a URL/);
  });
});
