/**
 * `runner-fleet orphans` exit codes and hints (issue 14, defect 3): a run that could not look
 * must not exit 0, and each "could not look" names the flag or variable to set.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ORPHANS_EXIT_CODES, registerOrphansCommand, type OrphansCommandOverrides } from '../../lib/cli/orphans';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { FakeGitLab, fakeRunnerToken } from '../support/fake-gitlab';

const work = mkdtempSync(join(tmpdir(), 'orphans-exit-'));
const configFile = join(work, 'fleet.config.yaml');
writeFileSync(
  configFile,
  `gitlab: { url: https://gitlab.example.com }
fleets:
  - { name: graviton-spot, computeType: spot, instanceTypes: [m7g.large], capacity: { max: 2 } }
`,
);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function credentialsError(): Error {
  const error = new Error('Could not load credentials from any providers');
  error.name = 'CredentialsProviderError';
  return error;
}

describe('runner-fleet orphans exit codes', () => {
  let gitlab: FakeGitLab;
  let env: Record<string, string>;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    env = { GITLAB_API_TOKEN: ['glpat', 'exitcodesreaderxxxx'].join('-'), GITLAB_RUNNER_TOKEN_GRAVITON_SPOT: fakeRunnerToken('exit') };
    gitlab.allowApiToken(env.GITLAB_API_TOKEN);
    gitlab.addRunner(env.GITLAB_RUNNER_TOKEN_GRAVITON_SPOT, { id: 7 });
  });

  afterEach(async () => {
    await gitlab.stop();
  });

  async function run(overrides: Partial<OrphansCommandOverrides>) {
    let stdout = '';
    let stderr = '';
    const output: CliOutput = { out: (t) => (stdout += t), err: (t) => (stderr += t) };
    const program = createProgram(output);
    registerOrphansCommand(program, output, {
      env,
      now: () => new Date('2026-11-25T12:00:00Z'),
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 2_000, maxAttempts: 1, sleep: async () => {} }),
      existingInstanceIds: async () => [],
      readSecret: async () => {
        throw credentialsError();
      },
      ...overrides,
    });
    const code = await runProgram(program, ['node', 'runner-fleet', 'orphans', '--config', configFile], output);
    return { code, stdout, stderr };
  }

  it('exits 0 when every fleet was checked', async () => {
    expect((await run({})).code).toBe(ORPHANS_EXIT_CODES.checked);
  });

  it('exits 3 and names --region and AWS_REGION when the SDK has no region', async () => {
    // GIVEN the SDK's own error for a missing region
    const { code, stdout, stderr } = await run({
      existingInstanceIds: async () => {
        throw new Error('Region is missing');
      },
    });
    // THEN the run says it could not look, and what to set
    expect(code).toBe(3);
    expect(stdout).toContain('listing instances failed: Error: no AWS region: pass --region <region> or set AWS_REGION');
    expect(stderr).toContain('runner-fleet: could not check 1 of 1 fleet (graviton-spot); nothing was decided for it');
  });

  it('exits 3 and names AWS_PROFILE and the token variables when there are no credentials', async () => {
    // GIVEN no token in the environment, so it must come from Secrets Manager, which has no credentials
    delete env.GITLAB_RUNNER_TOKEN_GRAVITON_SPOT;
    const { code, stdout } = await run({});
    expect(code).toBe(3);
    expect(stdout).toContain('reading the runner token failed: Error: no AWS credentials: set AWS_PROFILE');
    expect(stdout).toContain('GITLAB_RUNNER_TOKEN_<FLEET>');
  });

  it('exits 3 and names gitlab.url when GitLab does not answer', async () => {
    // GIVEN a GitLab that is not listening any more
    const url = gitlab.url;
    await gitlab.stop();
    const { code, stdout } = await run({
      gitlab: new GitLabRunnerClient({ baseUrl: url, timeoutMs: 2_000, maxAttempts: 1, sleep: async () => {} }),
    });
    expect(code).toBe(3);
    expect(stdout).toMatch(
      /resolving the runner id failed: Error: GitLab at https:\/\/gitlab\.example\.com did not answer \(.+\); check gitlab\.url/,
    );
    await gitlab.start();
  });

  it('documents the exit codes in the help', async () => {
    let help = '';
    const output: CliOutput = { out: (t) => (help += t), err: () => {} };
    const program = createProgram(output);
    registerOrphansCommand(program, output, {});
    await runProgram(program, ['node', 'runner-fleet', 'orphans', '--help'], output);
    expect(help).toContain('Exit codes: 0 every fleet checked, 1 bad config or option, 3 some fleet could not be checked');
  });
});
