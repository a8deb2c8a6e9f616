import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeRunnerToken } from '../support/fake-gitlab';
import { rawFleet, readAssembly, synthFleetApp, testConfig } from '../support/stack-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synth(config = testConfig([rawFleet({ name: 'alpha' }), rawFleet({ name: 'beta', computeType: 'on-demand' })])) {
  const dir = synthFleetApp(config);
  dirs.push(dir);
  return readAssembly(dir);
}

describe('synthesized output', () => {
  it('is byte-identical across two synths of the same config', () => {
    // Same call site for both: acknowledgement metadata records where the app was built, as the CLI's runs would.
    const [first, second] = [0, 1].map(() => synth());
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [file, content] of first) expect(second.get(file), file).toBe(content);
  });

  it('contains no runner token anywhere, only the secret name', () => {
    // GIVEN a token-shaped value where a careless setup might leak it: the environment of the synth
    const token = fakeRunnerToken('leak');
    process.env.GITLAB_RUNNER_TOKEN = token;
    process.env.RUNNER_TOKEN = token;
    // A secret NAME that itself looks like a token, built here so no token-shaped literal is committed.
    const secretName = ['ci/alpha/glrt', 'token-secret-name'].join('-');
    try {
      // WHEN the app is synthesized
      const files = synth(testConfig([rawFleet({ name: 'alpha', runnerTokenSecretName: secretName })]));
      const all = [...files.values()].join('\n');
      // THEN the secret name is there (the scan reads the templates) and no token value is
      expect(all).toContain(secretName);
      expect(all).not.toContain(token);
      for (const [file, content] of files) {
        const withoutName = content.split(secretName).join('');
        expect(withoutName, file).not.toMatch(/glrt-[A-Za-z0-9_-]{10,}/);
      }
    } finally {
      delete process.env.GITLAB_RUNNER_TOKEN;
      delete process.env.RUNNER_TOKEN;
    }
  });
});
