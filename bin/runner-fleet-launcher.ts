#!/usr/bin/env node
/**
 * `runner-fleet` as installed (dist/bin/runner-fleet.js): runs the bundled CLI
 * (runner-fleet-main.js beside it) from V8's code cache when there is one.
 *
 * Compiling the ~650 KB bundle is about a third of a small command's start-up, and Node 20 has
 * no compile cache of its own (module.enableCompileCache is Node 22+). So the first run keeps
 * the code V8 compiled, keyed by the bundle's content, the Node version and the CPU
 * architecture, and later runs hand it back. A missing, stale or rejected cache only costs that
 * one compile; it is written beside and renamed into place, so parallel runs never read half.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Where compiled code is kept.
 * @default `$RUNNER_FLEET_CODE_CACHE_DIR`, else `<os tmp>/gitlab-runner-fleet-code-cache`
 */
function codeCacheDir(): string {
  return process.env.RUNNER_FLEET_CODE_CACHE_DIR ?? join(tmpdir(), 'gitlab-runner-fleet-code-cache');
}

function launch(mainFile: string): void {
  const source = readFileSync(mainFile, 'utf8').replace(/^#!.*/, '');
  const key = createHash('sha256').update(`${process.version}\0${process.arch}\0`).update(source).digest('hex').slice(0, 32);
  const cacheFile = join(codeCacheDir(), `runner-fleet-${key}.bin`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(source), { filename: mainFile, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // At exit the cache also holds the functions this run compiled lazily.
    process.once('exit', () => {
      try {
        mkdirSync(dirname(cacheFile), { recursive: true });
        const staging = `${cacheFile}.${process.pid}`;
        writeFileSync(staging, script.createCachedData());
        renameSync(staging, cacheFile);
      } catch {
        // A read-only or full disk only means the next run compiles again.
      }
    });
  }
  const mainModule = new Module(mainFile);
  mainModule.filename = mainFile;
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(mainModule.exports, mainModule.exports, createRequire(mainFile), mainModule, mainFile, dirname(mainFile));
}

launch(join(__dirname, 'runner-fleet-main.js'));
