/**
 * Which test files share a worker process (vitest `isolate: false`) and which run in one of their
 * own: the rule in test/support/test-isolation.ts that vitest.config.mts applies.
 */
import { describe, expect, it } from 'vitest';
import { filesThatPatchProcessState, patchesProcessState } from '../support/test-isolation';

describe('test isolation', () => {
  it.each([
    ["vi.mock('node:fs', () => ({}))", 'replaces a module'],
    ["vi.spyOn(process.stderr, 'write')", 'spies on a shared object'],
    ['vi.useFakeTimers()', 'installs fake timers'],
    ["vi.stubEnv('AWS_REGION', 'eu-west-1')", 'stubs the environment'],
    ['const sqs = mockClient(SQSClient);', 'patches an AWS SDK client class'],
    ["process.env.GITLAB_RUNNER_TOKEN = 'x';", 'writes process.env'],
    ["process.env['AWS_REGION'] ??= 'x';", 'writes process.env by index'],
    ['delete process.env.AWS_REGION;', 'deletes from process.env'],
    ["process.chdir('/tmp');", 'changes directory'],
  ])('runs a file in a process of its own when it %s (%s)', (source) => {
    expect(patchesProcessState(source)).toBe(true);
  });

  it('lets a file share its worker when it only reads process state and builds its own objects', () => {
    const source = [
      "const region = process.env.AWS_REGION ?? 'eu-central-1';",
      "if (process.env.CI === 'true') console.log(region);",
      'const template = Template.fromStack(new Stack(new App()));',
      'const fn = vi.fn();',
    ].join('\n');

    expect(patchesProcessState(source)).toBe(false);
  });

  it('finds the isolated files in the repository, and leaves the construct tests shared', () => {
    const isolated = filesThatPatchProcessState();

    expect(isolated).toContain('test/lambda/bundle-race.test.ts');
    // This file names what it looks for, so it runs isolated itself.
    expect(isolated).toContain('test/ci/test-isolation.test.ts');
    expect(isolated).not.toContain('test/stacks/fleet-stack.test.ts');
    expect(isolated).not.toContain('test/ci/test-infrastructure.test.ts');
    expect(isolated.every((file) => file.startsWith('test/') && file.endsWith('.test.ts'))).toBe(true);
  });
});
