/**
 * One fleet instance's surroundings for the script tests: a fake IMDS reporting the instance
 * id, a fake GitLab holding the fleet's runner, and a sandbox with stub commands. Servers stop
 * when the test finishes, after checking the one rule every script must keep: the runner
 * shared by the whole fleet is never deleted.
 */
import { expect, type TestContext } from 'vitest';
import { FakeGitLab, type FakeRunner } from '../../support/fake-gitlab';
import { FakeImds } from '../../support/fake-imds';
import { Sandbox } from './sandbox';

export class InstanceWorld {
  readonly imds = new FakeImds();
  readonly gitlab = new FakeGitLab();
  readonly sandbox = new Sandbox();
  readonly runner: FakeRunner;

  constructor(
    readonly token: string,
    readonly instanceId: string,
  ) {
    this.runner = this.gitlab.addRunner(token);
  }

  /** Starts both servers and registers their teardown with the test. */
  protected async start({ onTestFinished }: TestContext): Promise<void> {
    onTestFinished(async () => {
      try {
        expect(this.gitlab.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/v4/runners')).toEqual([]);
      } finally {
        this.sandbox.dispose();
        await this.imds.stop();
        await this.gitlab.stop();
      }
    });
    this.imds.instanceId = this.instanceId;
    await this.imds.start();
    await this.gitlab.start();
  }
}
