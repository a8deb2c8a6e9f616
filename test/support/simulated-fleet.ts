/**
 * A fleet for rotation tests: instances that run jobs with the token of their compute type's
 * secret (as the instance scripts read it at boot), an instance refresh that drains one old
 * instance at a time through the terminate hook and boots its replacement, and managers that
 * deregister one tick after their instance ended. Time passes only through {@link tick}.
 */
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import type { FakeGitLab } from './fake-gitlab';

export interface SimInstance {
  readonly id: string;
  readonly computeType: 'spot' | 'on-demand';
  readonly token: string;
  jobsLeft: number;
  draining: boolean;
}

export class SimulatedFleet {
  readonly instances: SimInstance[] = [];
  /** Jobs lost because their runner was deleted while they ran. */
  interruptedJobs = 0;
  refreshing = false;
  refreshFails = false;
  /** Ticks so far. */
  ticks = 0;
  private next = 1;
  private deregistrations: Array<() => void> = [];

  constructor(
    private readonly gitlab: FakeGitLab,
    private readonly secrets: Map<string, string>,
    /** Token secret name by compute type. */
    private readonly secretOf: Readonly<Record<string, string>>,
  ) {}

  boot(computeType: 'spot' | 'on-demand', jobs: number): SimInstance {
    const id = `i-0${String(this.next++).padStart(16, '0')}`;
    const token = this.secrets.get(this.secretOf[computeType])!;
    const runner = this.gitlab.runners.find((r) => r.token === token);
    if (!runner) throw new Error(`instance ${id} (${computeType}) could not register: no runner has the token in its secret`);
    this.gitlab.addManager(runner, systemIdForInstance(id));
    const instance = { id, computeType, token, jobsLeft: jobs, draining: false };
    this.instances.push(instance);
    return instance;
  }

  /** Instances whose token is not the one now in their secret. */
  stale(): SimInstance[] {
    return this.instances.filter((i) => i.token !== this.secrets.get(this.secretOf[i.computeType]));
  }

  /** One unit of time. */
  tick(): void {
    this.ticks++;
    for (const run of this.deregistrations.splice(0)) run();
    for (const instance of this.instances) {
      if (instance.jobsLeft > 0 && !this.gitlab.runners.some((r) => r.token === instance.token)) {
        this.interruptedJobs += instance.jobsLeft;
        instance.jobsLeft = 0;
      }
    }
    for (const instance of this.instances.filter((i) => i.draining)) {
      if (instance.jobsLeft > 0) {
        instance.jobsLeft -= 1;
        continue;
      }
      this.instances.splice(this.instances.indexOf(instance), 1);
      this.deregistrations.push(() => {
        for (const runner of this.gitlab.runners)
          runner.managers = runner.managers.filter((m) => m.system_id !== systemIdForInstance(instance.id));
      });
    }
    if (this.refreshing && !this.refreshFails && !this.instances.some((i) => i.draining)) {
      const old = this.stale()[0];
      if (old) {
        old.draining = true;
        this.boot(old.computeType, 0);
      }
    }
  }

  refreshStatus(): string {
    if (this.refreshFails) return 'Failed';
    return this.stale().length > 0 || this.instances.some((i) => i.draining) ? 'InProgress' : 'Successful';
  }
}
