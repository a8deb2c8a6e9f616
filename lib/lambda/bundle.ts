/**
 * Bundles the fleet Lambda handlers with esbuild, in process and without Docker: once per
 * source change, not once per synth. A bundle is kept on disk beside the list of files it was
 * built from and their SHA-256 (esbuild's metafile); a later process rehashes those files
 * (tens of milliseconds) and reuses the bundle when none changed, instead of bundling again
 * (about a second per handler). Within a process each handler is looked up once. Asset
 * directories are named by the content hash, so the CDK asset hash and the deployed code only
 * change when the code does, and the bytes are the same on every machine.
 *
 * Everything is bundled, the AWS SDK included: the Lambda runs exactly the SDK version the
 * tests ran against, not whatever the runtime ships. Only Node built-ins stay external.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';

/** The handlers, by folder under lib/lambda/. */
export const LAMBDA_HANDLERS = {
  'safety-net': join(__dirname, 'safety-net', 'handler.ts'),
  'orphan-reaper': join(__dirname, 'orphan-reaper', 'handler.ts'),
  'spot-fallback': join(__dirname, 'spot-fallback', 'handler.ts'),
  'demand-webhook': join(__dirname, 'demand-webhook', 'handler.ts'),
  'demand-scaler': join(__dirname, 'demand-scaler', 'handler.ts'),
  'gitlab-runner': join(__dirname, 'gitlab-runner', 'handler.ts'),
  'schedule-catch-up': join(__dirname, 'schedule-catch-up', 'handler.ts'),
  'token-rotation': join(__dirname, 'token-rotation', 'handler.ts'),
} as const;

export type LambdaHandlerName = keyof typeof LAMBDA_HANDLERS;

/** Handler export inside the bundle, for `lambda.Function`'s `handler` prop. */
export const BUNDLE_HANDLER = 'index.handler';

/** esbuild target; the bundle also runs on later Node runtimes. */
export const BUNDLE_NODE_TARGET = 'node20';

export interface HandlerBundle {
  readonly name: LambdaHandlerName;
  /** The bundled JavaScript. */
  readonly code: string;
  /** sha256 of {@link code}, hex. */
  readonly sha256: string;
  readonly bytes: number;
  /** Time the bundling took in this process, in ms (0 when served from the cache). */
  readonly buildMs: number;
  /** True when the bundle came from the on-disk cache (its sources unchanged since it was built). */
  readonly fromCache: boolean;
}

/** What the on-disk cache records beside a bundle. */
interface CacheRecord {
  /** Hash of the esbuild version, the entry point and the build options: a change rebuilds. */
  readonly buildKey: string;
  /** Every file esbuild read, relative to the project root, with its SHA-256. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly sha256: string;
}

const bundles = new Map<LambdaHandlerName, HandlerBundle>();
/**
 * SHA-256 of each input file read in this process: the handlers share most of their inputs (the
 * AWS SDK, lib/identity), so each file is read and hashed once per synth, not once per handler.
 */
const inputHashes = new Map<string, string>();

function inputHash(file: string): string {
  let hash = inputHashes.get(file);
  if (hash === undefined) {
    hash = sha256(readFileSync(join(PROJECT_ROOT, file)));
    inputHashes.set(file, hash);
  }
  return hash;
}

/**
 * Where asset directories are written.
 * @default `$GITLAB_RUNNER_FLEET_BUNDLE_DIR`, else `<os tmp>/gitlab-runner-fleet-lambda`
 */
export function bundleRoot(): string {
  return process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR ?? join(tmpdir(), 'gitlab-runner-fleet-lambda');
}

const PROJECT_ROOT = join(__dirname, '..', '..');

function buildOptions(name: LambdaHandlerName): BuildOptions {
  return {
    entryPoints: [LAMBDA_HANDLERS[name]],
    bundle: true,
    platform: 'node',
    target: BUNDLE_NODE_TARGET,
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // Keeps the output free of this machine's paths, so every checkout produces the same bundle.
    absWorkingDir: PROJECT_ROOT,
    write: false,
    logLevel: 'silent',
  };
}

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

function buildKey(name: LambdaHandlerName): string {
  const options = buildOptions(name);
  const entry = relative(PROJECT_ROOT, LAMBDA_HANDLERS[name]);
  return sha256(JSON.stringify({ esbuild: esbuildVersion, entry, options: { ...options, entryPoints: [entry], absWorkingDir: '.' } }));
}

/** Where the bundle cache lives: a folder under {@link bundleRoot}. */
export function bundleCacheDir(): string {
  return join(bundleRoot(), 'cache');
}

function cachedBundle(name: LambdaHandlerName): string | undefined {
  const dir = bundleCacheDir();
  let record: CacheRecord;
  try {
    record = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as CacheRecord;
  } catch {
    return undefined;
  }
  if (record.buildKey !== buildKey(name)) return undefined;
  for (const [file, hash] of Object.entries(record.inputs)) {
    try {
      if (inputHash(file) !== hash) return undefined;
    } catch {
      return undefined;
    }
  }
  try {
    const code = readFileSync(join(dir, `${name}-${record.sha256}.js`), 'utf8');
    return sha256(code) === record.sha256 ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a file beside its final name and renames it into place, so parallel synths never read half a file. */
function writeAtomically(file: string, content: string): void {
  const staging = `${file}.${process.pid}.${Date.now()}`;
  writeFileSync(staging, content);
  renameSync(staging, file);
}

function storeBundle(name: LambdaHandlerName, code: string, inputs: readonly string[]): void {
  const dir = bundleCacheDir();
  mkdirSync(dir, { recursive: true });
  const record: CacheRecord = {
    buildKey: buildKey(name),
    inputs: Object.fromEntries(
      [...inputs].sort().map((file) => {
        // Read afresh: the build just read these files, and a memo from before the build may be stale.
        const hash = sha256(readFileSync(join(PROJECT_ROOT, file)));
        inputHashes.set(file, hash);
        return [file, hash];
      }),
    ),
    sha256: sha256(code),
  };
  // The code first: a record never points at a bundle that is not there.
  writeAtomically(join(dir, `${name}-${record.sha256}.js`), code);
  writeAtomically(join(dir, `${name}.json`), `${JSON.stringify(record, null, 1)}\n`);
}

/** The bundled code of a handler: from the on-disk cache when its sources are unchanged, else built (and cached). */
export function bundleHandler(name: LambdaHandlerName): HandlerBundle {
  const memo = bundles.get(name);
  if (memo) return memo;
  const started = performance.now();
  let code = cachedBundle(name);
  const fromCache = code !== undefined;
  if (code === undefined) {
    const result = buildSync({ ...buildOptions(name), metafile: true });
    code = result.outputFiles?.[0]?.text ?? '';
    try {
      storeBundle(name, code, Object.keys(result.metafile.inputs));
    } catch {
      // A read-only or full disk only costs the next synth a rebuild.
    }
  }
  const bundle: HandlerBundle = {
    name,
    code,
    sha256: sha256(code),
    bytes: Buffer.byteLength(code),
    buildMs: fromCache ? 0 : Math.round(performance.now() - started),
    fromCache,
  };
  bundles.set(name, bundle);
  return bundle;
}

/** Forgets the bundles looked up in this process, as a new process would (for tests and the benchmark). */
export function forgetBundlesInProcess(): void {
  bundles.clear();
  inputHashes.clear();
}

/**
 * A directory holding `index.js` (the handler bundle) and the given extra files (configuration
 * for the handler, a CA bundle), for `lambda.Code.fromAsset`. Named by the hash of all its
 * content and written only once, so repeated synths reuse it.
 */
export function handlerAssetDir(name: LambdaHandlerName, extraFiles: Readonly<Record<string, string>> = {}): string {
  const bundle = bundleHandler(name);
  const files: Record<string, string> = { 'index.js': bundle.code, ...extraFiles };
  const hash = createHash('sha256');
  for (const file of Object.keys(files).sort()) hash.update(file).update('\0').update(files[file]).update('\0');
  const dir = join(bundleRoot(), `${name}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  // Written beside and renamed into place, so a parallel synth never sees a half-written directory.
  const staging = `${dir}.${process.pid}.${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(staging, file), content);
  try {
    renameSync(staging, dir);
  } catch (error) {
    if (!existsSync(dir)) throw error;
  }
  return dir;
}

/** Sizes and build times of the handler bundles (bundles them if needed), for the benchmark. */
export function lambdaBundleSizes(): Array<Pick<HandlerBundle, 'name' | 'bytes' | 'sha256' | 'buildMs' | 'fromCache'>> {
  return (Object.keys(LAMBDA_HANDLERS) as LambdaHandlerName[]).map((name) => {
    const { bytes, sha256: hash, buildMs, fromCache } = bundleHandler(name);
    return { name, bytes, sha256: hash, buildMs, fromCache };
  });
}
