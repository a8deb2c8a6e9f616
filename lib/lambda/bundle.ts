/**
 * Bundles the fleet Lambda handlers with esbuild, in process and without Docker: once per
 * handler per process (a synth of 100 fleet stacks bundles twice, not 200 times), into a
 * directory named by the content hash, so the CDK asset hash and the deployed code only
 * change when the code does.
 *
 * Everything is bundled, the AWS SDK included: the Lambda runs exactly the SDK version the
 * tests ran against, not whatever the runtime ships. Only Node built-ins stay external.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/** The handlers, by folder under lib/lambda/. */
export const LAMBDA_HANDLERS = {
  'safety-net': join(__dirname, 'safety-net', 'handler.ts'),
  'orphan-reaper': join(__dirname, 'orphan-reaper', 'handler.ts'),
  'gitlab-runner': join(__dirname, 'gitlab-runner', 'handler.ts'),
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
}

const bundles = new Map<LambdaHandlerName, HandlerBundle>();

/**
 * Where asset directories are written.
 * @default `$GITLAB_RUNNER_FLEET_BUNDLE_DIR`, else `<os tmp>/gitlab-runner-fleet-lambda`
 */
export function bundleRoot(): string {
  return process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR ?? join(tmpdir(), 'gitlab-runner-fleet-lambda');
}

/** The bundled code of a handler, built on first use in this process. */
export function bundleHandler(name: LambdaHandlerName): HandlerBundle {
  const cached = bundles.get(name);
  if (cached) return cached;
  const started = performance.now();
  const result = buildSync({
    entryPoints: [LAMBDA_HANDLERS[name]],
    bundle: true,
    platform: 'node',
    target: BUNDLE_NODE_TARGET,
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // Keeps the output free of this machine's paths, so every checkout produces the same bundle.
    absWorkingDir: join(__dirname, '..', '..'),
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  const bundle: HandlerBundle = {
    name,
    code,
    sha256: createHash('sha256').update(code).digest('hex'),
    bytes: Buffer.byteLength(code),
    buildMs: Math.round(performance.now() - started),
  };
  bundles.set(name, bundle);
  return bundle;
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

/** Sizes and build times of both handler bundles (bundles them if needed), for the benchmark. */
export function lambdaBundleSizes(): Array<Pick<HandlerBundle, 'name' | 'bytes' | 'sha256' | 'buildMs'>> {
  return (Object.keys(LAMBDA_HANDLERS) as LambdaHandlerName[]).map((name) => {
    const { bytes, sha256, buildMs } = bundleHandler(name);
    return { name, bytes, sha256, buildMs };
  });
}
