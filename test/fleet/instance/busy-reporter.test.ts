import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLoopbackServer, type LoopbackServer } from '../../support/loopback-server';
import { INSTANCE_DIR, Sandbox } from './sandbox';

const SCRIPT = join(INSTANCE_DIR, 'busy-reporter.sh');

describe('busy reporter (runs under bash against a fake runner metrics endpoint)', () => {
  let sandbox: Sandbox;
  let metrics: LoopbackServer;
  let jobs: number | undefined;

  beforeEach(async () => {
    sandbox = new Sandbox();
    jobs = 0;
    metrics = await startLoopbackServer((_req, res) => {
      if (jobs === undefined) return void res.writeHead(503).end();
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(
          [
            '# HELP gitlab_runner_jobs The current number of running builds.',
            '# TYPE gitlab_runner_jobs gauge',
            `gitlab_runner_jobs{executor_stage="build",runner="abc",state="running",system_id="s_1"} ${jobs}`,
            'gitlab_runner_concurrent 4',
          ].join('\n'),
        );
    });
    // What the bootstrap writes for the agents.
    mkdirSync(join(sandbox.root, 'run', 'gitlab-runner-fleet'), { recursive: true });
    writeFileSync(
      join(sandbox.root, 'run', 'gitlab-runner-fleet', 'instance.env'),
      'GRF_INSTANCE_ID=i-0123456789abcdef0\nGRF_REGION=eu-central-1\n',
    );
  });

  afterEach(async () => {
    await metrics.stop();
    sandbox.dispose();
  });

  const once = () => sandbox.run(SCRIPT, { GRF_METRICS_URL: `${metrics.url}/metrics`, GRF_BUSY_ONCE: '1' });
  const tagCalls = () => sandbox.calls().filter((c) => c.line.startsWith('aws ec2 create-tags'));

  it('tags the instance with its running jobs, read from the runner metrics', async () => {
    jobs = 3;
    const result = await once();

    expect(result.code).toBe(0);
    expect(tagCalls().map((c) => c.line)).toEqual([
      'aws ec2 create-tags --region eu-central-1 --resources i-0123456789abcdef0 --tags Key=gitlab-runner-fleet:busy-slots,Value=3 Key=gitlab-runner-fleet:idle-since,Value=',
    ]);
  });

  it('tags an idle instance with the time it became idle', async () => {
    const before = Math.floor(Date.now() / 1000);
    await once();

    const [call] = tagCalls();
    expect(call.line).toMatch(/busy-slots,Value=0 Key=gitlab-runner-fleet:idle-since,Value=(\d+)$/);
    expect(Number(/Value=(\d+)$/.exec(call.line)![1])).toBeGreaterThanOrEqual(before);
  });

  it('writes nothing when the metrics do not answer, so the scaler never takes it for idle', async () => {
    jobs = undefined;
    await once();

    expect(tagCalls()).toEqual([]);
  });

  it('refuses to run without the instance identity the bootstrap writes', async () => {
    writeFileSync(join(sandbox.root, 'run', 'gitlab-runner-fleet', 'instance.env'), '');
    const result = await once();

    expect(result.code).toBe(2);
  });
});
