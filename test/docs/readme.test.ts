/**
 * The README as a newcomer follows it (issue 14): short, the two quick-start commands as written,
 * deploy steps that create every secret the bundled config needs from a file, links that resolve.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleetConfig } from '../../lib/config';

const README = readFileSync('README.md', 'utf8');
const deploySection = README.slice(README.indexOf('## Deploy'), README.indexOf('\n## ', README.indexOf('## Deploy') + 1));
const DOCS = [
  'README.md',
  'docs/architecture.md',
  'docs/cost.md',
  'docs/deploy-api.md',
  'docs/development.md',
  'docs/drain-and-cleanup.md',
];

describe('README', () => {
  it('stays under 15 KB, with no line over 200 characters', () => {
    expect(Buffer.byteLength(README)).toBeLessThan(15_000);
    expect(README.split('\n').filter((line) => line.length > 200)).toEqual([]);
  });

  it('gives the two quick-start commands exactly as they must keep working', () => {
    expect(README).toMatch(/^npm ci && npm start /m);
    expect(README).toMatch(/^npm ci && npm test /m);
  });

  it('creates, in the deploy steps, every secret the bundled fleet.config.yaml needs (defect 4)', () => {
    // GIVEN the secrets the bundled config reads: each fleet's runner token, the reaper's API token when enabled, the webhook and poll tokens with demand scaling
    const config = loadFleetConfig('fleet.config.yaml');
    const needed = config.fleets.map((f) => f.runnerTokenSecretName);
    if (config.orphanReaper.enabled) needed.push(config.orphanReaper.apiTokenSecretName);
    if (config.fleets.some((f) => f.demandScaling) && config.demand) {
      needed.push(config.demand.webhookSecretName, ...(config.demand.poll ? [config.demand.poll.apiTokenSecretName] : []));
    }
    // THEN each is created by a create-secret command of the deploy steps (fleet names may come from a loop)
    const loopFleets = /for fleet in ([^;]+); do/.exec(deploySection)?.[1].trim().split(/\s+/) ?? [];
    const created = [...[...deploySection.matchAll(/create-secret --name (\S+)/g)].map((m) => m[1].replace(/"/g, ''))].flatMap((name) =>
      name.includes('$fleet') ? loopFleets.map((f) => name.replace('$fleet', f)) : [name],
    );
    expect(needed.filter((name) => !created.includes(name))).toEqual([]);
  });

  it('puts no token on a command line and needs no jq, in any doc (defect 4)', () => {
    for (const file of DOCS) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/--secret-string\s+"?\$/);
      expect(text, file).not.toMatch(/\|\s*jq\b/);
      // Shell lines continued with a backslash count as one command.
      for (const [command] of text.replace(/\\\n/g, ' ').matchAll(/create-secret[^\n]*/g)) expect(command, file).toContain('file://');
    }
  });

  it('names its source instead of "the seed"', () => {
    for (const file of [...DOCS, 'docs/configuration.md']) expect(readFileSync(file, 'utf8'), file).not.toMatch(/\bthe seed\b/i);
  });

  it('links only to files and docs that exist', () => {
    for (const file of DOCS) {
      const text = readFileSync(file, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^https?:/.test(target)) continue;
        expect(existsSync(join(dirname(file), target)), `${file} -> ${target}`).toBe(true);
      }
    }
  });
});
