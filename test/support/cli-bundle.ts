/**
 * The CLI bundled exactly as `npm run build:cli` bundles it (see package.json), for tests that
 * run it as a child process. Built once per test process; kept inside the checkout so the
 * AWS SDK's dynamic imports resolve from node_modules as they do for dist/bin.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

let built: string | undefined;

export function bundledCli(): string {
  if (built) return built;
  const outfile = join(process.cwd(), 'node_modules', '.cache', 'runner-fleet-cli-test', 'runner-fleet.js');
  // Test files run in parallel processes: build beside the target, then swap it in atomically.
  const partial = `${outfile}.${process.pid}.tmp`;
  buildSync({
    entryPoints: ['bin/runner-fleet.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: partial,
    external: ['@aws-sdk/*'],
    logLevel: 'warning',
  });
  renameSync(partial, outfile);
  built = outfile;
  return outfile;
}
