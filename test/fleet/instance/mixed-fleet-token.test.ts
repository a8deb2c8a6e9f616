/**
 * Mixed fleets tell the truth: a spot fleet with an on-demand floor has one GitLab runner per
 * compute type, and each instance registers with the token of its own lifecycle as IMDS
 * reports it, so a job tagged computetype-ondemand never lands on a spot instance.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import type { InstanceScriptParams } from '../../../lib/fleet/instance/params';
import { renderUserData } from '../../../lib/fleet/instance/user-data';
import { LIFECYCLE_HOOKS, autoScalingGroupName, systemIdForInstance } from '../../../lib/identity/runner-identity';
import { fakeRunnerToken, type FakeRunner } from '../../support/fake-gitlab';
import { RUNNER_VERSION } from './sandbox';
import { InstanceWorld } from './world';

const INSTANCE_ID = 'i-0aaaabbbbccccdddd';
const SPOT_SECRET = 'gitlab-runner-fleet/mixed/runner-token';
const ON_DEMAND_SECRET = 'gitlab-runner-fleet/mixed/runner-token-ondemand';

class MixedWorld extends InstanceWorld {
  onDemandRunner!: FakeRunner;

  static async create(context: TestContext, lifeCycle: 'spot' | 'on-demand'): Promise<MixedWorld> {
    const w = new MixedWorld(fakeRunnerToken('spotrunner'), INSTANCE_ID);
    w.runner.tag_list = ['computetype-spot', 'arm64'];
    w.onDemandRunner = w.gitlab.addRunner(fakeRunnerToken('ondemandrunner'), { tag_list: ['computetype-ondemand', 'arm64'] });
    await w.start(context);
    w.imds.instanceLifeCycle = lifeCycle;
    w.sandbox.setNamedSecret(SPOT_SECRET, w.token);
    w.sandbox.setNamedSecret(ON_DEMAND_SECRET, w.onDemandRunner.token);
    return w;
  }

  params(overrides: Partial<InstanceScriptParams> = {}): InstanceScriptParams {
    return {
      fleetName: 'mixed',
      gitlabUrl: this.gitlab.url,
      runnerVersion: RUNNER_VERSION,
      runnerDownloadUrl: this.sandbox.publishRunner('arm64'),
      architecture: 'arm64',
      computeType: 'spot',
      executor: 'docker',
      dockerImage: 'public.ecr.aws/docker/library/alpine:3.20',
      concurrency: 4,
      maxJobTimeoutMinutes: 45,
      runnerTokenSecretId: SPOT_SECRET,
      onDemandRunnerTokenSecretId: ON_DEMAND_SECRET,
      autoScalingGroupName: autoScalingGroupName('mixed'),
      launchHookName: LIFECYCLE_HOOKS.launch,
      terminateHookName: LIFECYCLE_HOOKS.terminate,
      heartbeatIntervalSeconds: 100,
      ...overrides,
    };
  }

  async boot(params = this.params()): Promise<number | null> {
    const file = join(this.sandbox.dir, 'user-data.sh');
    writeFileSync(file, renderUserData(params));
    return (await this.sandbox.run(file, { GRF_IMDS_ENDPOINT: this.imds.url })).code;
  }

  secretReads(): string[] {
    return this.sandbox
      .calls()
      .map((c) => c.line)
      .filter((l) => l.startsWith('aws secretsmanager get-secret-value'));
  }
}

describe.concurrent('the token a mixed-fleet instance registers with', () => {
  it('is the spot runner token when IMDS says the instance is spot', async (ctx) => {
    const w = await MixedWorld.create(ctx, 'spot');

    expect(await w.boot()).toBe(0);

    expect(w.secretReads()).toEqual([expect.stringContaining(`--secret-id ${SPOT_SECRET} `)]);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([systemIdForInstance(INSTANCE_ID)]);
    expect(w.gitlab.managerSystemIds(w.onDemandRunner)).toEqual([]);
  });

  it('is the on-demand runner token when IMDS says the instance is on-demand', async (ctx) => {
    const w = await MixedWorld.create(ctx, 'on-demand');

    expect(await w.boot()).toBe(0);

    expect(w.secretReads()).toEqual([expect.stringContaining(`--secret-id ${ON_DEMAND_SECRET} `)]);
    expect(w.gitlab.managerSystemIds(w.onDemandRunner)).toEqual([systemIdForInstance(INSTANCE_ID)]);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([]);
  });

  it('is the fleet token for an on-demand instance of a fleet with a single runner', async (ctx) => {
    const w = await MixedWorld.create(ctx, 'on-demand');

    expect(await w.boot(w.params({ onDemandRunnerTokenSecretId: undefined }))).toBe(0);

    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([systemIdForInstance(INSTANCE_ID)]);
  });

  it('stays on the fleet (spot) token when IMDS reports anything but on-demand', async (ctx) => {
    const w = await MixedWorld.create(ctx, 'on-demand');
    Object.defineProperty(w.imds, 'instanceLifeCycle', { get: () => 'scheduled' });

    expect(await w.boot()).toBe(0);

    expect(w.gitlab.managerSystemIds(w.onDemandRunner)).toEqual([]);
    expect(w.gitlab.managerSystemIds(w.runner)).toEqual([systemIdForInstance(INSTANCE_ID)]);
  });
});
