/**
 * Which test files run in a process of their own. Most files share their worker process with the
 * files before them (vitest `isolate: false`), which saves loading aws-cdk-lib and warming CDK's
 * synthesis once per file. A file that changes state other files would see must not share: one
 * that replaces a module (`vi.mock`), spies on or stubs shared objects, installs fake timers,
 * patches AWS SDK clients, or writes `process.env`. Read from the files themselves, so a new
 * test that does any of this is isolated without anyone editing a list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Every test file, as vitest's `include` globs see them. */
export const TEST_FILES = ['test/**/*.test.ts'];

/** What makes a test file change the state of the process it runs in. */
export const PROCESS_STATE_PATCHES: readonly RegExp[] = [
  /\bvi\s*\.\s*(?:mock|doMock|unmock|spyOn|stubEnv|stubGlobal|useFakeTimers|resetModules)\b/,
  /\bmockClient\s*\(/,
  /\bprocess\.env(?:\.\w+|\[[^\]]+\])\s*(?:=(?!=)|\?\?=|\|\|=)/,
  /\bdelete\s+process\.env\b/,
  /\bObject\.assign\s*\(\s*process\.env\b/,
  /\bprocess\.(?:chdir|umask)\s*\(/,
  /\bglobalThis\.\w+\s*=(?!=)/,
];

/** True when the source of a test file changes process state that later files would see. */
export function patchesProcessState(source: string): boolean {
  return PROCESS_STATE_PATCHES.some((pattern) => pattern.test(source));
}

/** The test files under `root`/test that must run isolated, as paths relative to `root` with `/`. */
export function filesThatPatchProcessState(root = process.cwd()): string[] {
  const testDir = join(root, 'test');
  return (readdirSync(testDir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(testDir, file))
    .filter((file) => patchesProcessState(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file).split(sep).join('/'))
    .sort();
}
