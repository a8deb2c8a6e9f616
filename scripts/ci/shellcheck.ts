/**
 * Gate: shellcheck on every shell script in the repo that instances or CI run, and on the
 * user data rendered into every synthesized template (extracted to cdk.out/ci/user-data/).
 * Any finding fails the gate, as does user data over EC2's 16 KiB limit.
 *
 * Repo scripts: *.sh under lib/, scripts/, bin/, bench/ and .ci/, .ci/run, and any
 * extensionless file under lib/ starting with a sh/bash shebang. test/ fixtures are excluded
 * (some are broken on purpose).
 *
 * Usage: tsx scripts/ci/shellcheck.ts
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { CI_OUT, findFiles, findTemplates, findTool, plural, rel, ROOT, run, summary, SYNTH_OUT } from './common';
import { embeddedFiles, extractUserData, isShellScript } from './user-data';

/** EC2 rejects user data larger than 16 KiB (before base64 encoding). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

function isShellFile(path: string): boolean {
  if (extname(path) === '.sh') return true;
  if (extname(path) !== '') return false;
  const head = readFileSync(path, 'utf8').slice(0, 64);
  return /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(head);
}

export function repoScripts(root = ROOT): string[] {
  const scripts = new Set<string>();
  for (const dir of ['lib', 'scripts', 'bin', 'bench', '.ci']) {
    for (const file of findFiles(join(root, dir), (path) => (dir === 'lib' ? isShellFile(path) : extname(path) === '.sh')))
      scripts.add(file);
  }
  if (existsSync(join(root, '.ci', 'run'))) scripts.add(join(root, '.ci', 'run'));
  return [...scripts].sort();
}

/** Writes each distinct user data script from the synthesized templates to disk; returns the paths. */
function renderedUserData(): { files: string[]; oversized: string[] } {
  const outdir = join(CI_OUT, 'user-data');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const seen = new Set<string>();
  const files: string[] = [];
  const oversized: string[] = [];
  for (const template of findTemplates(SYNTH_OUT)) {
    const stack = basename(template, '.template.json');
    const config = relative(SYNTH_OUT, dirname(template)).split(/[\\/]/)[0];
    for (const userData of extractUserData(JSON.parse(readFileSync(template, 'utf8')))) {
      const bytes = Buffer.byteLength(userData.script);
      const label = `${config}/${stack}.${userData.logicalId}${userData.part ? `.part${userData.part}` : ''}.sh`;
      if (bytes > USER_DATA_LIMIT_BYTES) oversized.push(`${label} (${bytes} bytes)`);
      const hash = createHash('sha256').update(userData.script).digest('hex');
      if (seen.has(hash)) continue;
      seen.add(hash);
      const file = join(outdir, label);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, userData.script);
      files.push(file);
      // Scripts the user data installs (and the ones those install), decoded, side by side under
      // their own names so `source` directives resolve.
      const pending = [userData.script];
      for (let depth = 0; depth < 3 && pending.length > 0; depth++) {
        for (const embedded of pending.splice(0).flatMap(embeddedFiles).filter(isShellScript)) {
          const embeddedFile = join(`${file}.d`, basename(embedded.target));
          mkdirSync(dirname(embeddedFile), { recursive: true });
          writeFileSync(embeddedFile, embedded.content);
          files.push(embeddedFile);
          pending.push(embedded.content);
        }
      }
    }
  }
  return { files, oversized };
}

function main(): void {
  const shellcheck = findTool('shellcheck');
  if (!shellcheck) {
    console.log('FAIL shellcheck not found (Debian package `shellcheck`; .ci/run installs it)');
    summary('shellcheck', 'not installed');
    process.exit(1);
  }
  const scripts = repoScripts();
  const userData = renderedUserData();
  const files = [...scripts, ...userData.files];
  console.log(`${run(shellcheck, ['--version']).stdout.split('\n')[1] ?? 'shellcheck'}`);
  for (const file of files) console.log(`  ${rel(file)}`);
  if (userData.files.length === 0) console.log('note: no user data found in synthesized templates (run the synth gate first)');
  for (const label of userData.oversized) console.log(`FAIL user data over ${USER_DATA_LIMIT_BYTES} bytes: ${label}`);
  let findings = 0;
  if (files.length > 0) {
    const result = run(shellcheck, ['--external-sources', '--source-path=SCRIPTDIR', '--format=gcc', ...files]);
    const lines = result.stdout.split('\n').filter((line) => /:\d+:\d+: /.test(line));
    findings = lines.length;
    for (const line of lines) console.log(line.startsWith(ROOT) ? relative(ROOT, line) : line);
    if (result.status !== 0 && findings === 0) {
      console.log(`FAIL shellcheck exited ${result.status ?? result.signal}`);
      process.stdout.write(result.stderr);
      findings = 1;
    }
  }
  summary(
    'shellcheck',
    `${plural(files.length, 'file')} (${scripts.length} repo scripts, ${userData.files.length} rendered user data scripts and files they install), ${plural(findings, 'finding')}, ${userData.oversized.length} over 16 KiB`,
  );
  process.exit(findings > 0 || userData.oversized.length > 0 || files.length === 0 ? 1 : 0);
}

if (require.main === module) main();
