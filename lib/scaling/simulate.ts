/**
 * A deterministic simulation of one fleet under demand scaling: jobs arrive, the scaler
 * ({@link decideScaling}) runs every step, instances boot, take jobs, idle, and leave. Used by
 * the property tests, the cost CLI's demand pricing, the sample-day chart and the benchmark.
 * Pure: no CDK, no AWS SDK, no clock.
 *
 * The group's own choice when desired capacity drops below the instances (only at the end of a
 * window, see decide.ts) is modelled simply: instances still booting first, then the least busy;
 * a busy instance chosen this way drains (finishes its jobs through the terminate hook, takes no
 * new ones) before it leaves.
 */
import { MINUTES_PER_WEEK } from '../config/schedule';
import { decideScaling, type FleetInstance, type ScalingSettings } from './decide';
import { demandEnvelope, type EnvelopeFleet } from './envelope';

export interface SimulatedJob {
  /** Seconds from the start of the simulation. */
  readonly arrival: number;
  readonly durationSeconds: number;
}

export interface SimulationOptions {
  readonly fleet: EnvelopeFleet;
  readonly settings: ScalingSettings;
  /** Local minute of the week at which the simulation starts (0 = Monday 00:00). */
  readonly startMinuteOfWeek: number;
  readonly durationSeconds: number;
  /** The scaler's reaction time: it runs once per step. */
  readonly stepSeconds: number;
  /** Launch to registered (boot-to-registered). */
  readonly bootSeconds: number;
  readonly jobs: readonly SimulatedJob[];
  /** Instances in service at the start, idle. @default 0 */
  readonly initialInstances?: number;
  /** Keep one sample per this many seconds (0 = none). @default stepSeconds */
  readonly sampleEverySeconds?: number;
}

export interface SimulationSample {
  readonly second: number;
  /** Instances launched and not leaving (booting or in service). */
  readonly capacity: number;
  /** Instances paid for: booting, in service and draining. */
  readonly billedInstances: number;
  readonly busySlots: number;
  readonly queuedJobs: number;
  readonly envelopeMin: number;
  readonly envelopeMax: number;
}

export interface SimulationResult {
  readonly samples: readonly SimulationSample[];
  /** Seconds each job waited for a slot, in job order; undefined for a job that never started. */
  readonly waitSeconds: ReadonlyArray<number | undefined>;
  /** Instance-seconds paid for (booting, in service and draining). */
  readonly instanceSeconds: number;
  /** Instances the scaler named for removal while they ran a job: always 0 unless decide.ts is broken. */
  readonly busyRemovedByScaler: number;
  /** Times the group had to pick instances to remove while an idle one was left to it: always 0 too. */
  readonly idleKeptOverBusy: number;
  /** Scaling calls the scaler would have made (set-desired and terminate). */
  readonly scalingCalls: number;
}

interface SimInstance {
  id: string;
  readyAt: number;
  running: number[]; // end times of running jobs
  draining: boolean;
  idleSince?: number;
}

/** Runs the simulation. */
export function simulateFleet(options: SimulationOptions): SimulationResult {
  const { settings, stepSeconds } = options;
  if (!(stepSeconds > 0)) throw new Error(`stepSeconds (${stepSeconds}) must be > 0`);
  const concurrency = settings.concurrency;
  const jobs = options.jobs.map((job, index) => ({ ...job, index })).sort((a, b) => a.arrival - b.arrival || a.index - b.index);
  const waits: Array<number | undefined> = options.jobs.map(() => undefined);
  const samples: SimulationSample[] = [];
  const sampleEvery = options.sampleEverySeconds ?? stepSeconds;
  let instances: SimInstance[] = [];
  let nextId = 0;
  const launch = (readyAt: number, now: number): SimInstance => ({
    id: `i-${(nextId++).toString(16).padStart(8, '0')}`,
    readyAt,
    running: [],
    draining: false,
    idleSince: readyAt <= now ? now : undefined,
  });
  for (let i = 0; i < (options.initialInstances ?? 0); i++) instances.push(launch(0, 0));
  const queue: Array<{ index: number; arrival: number; durationSeconds: number }> = [];
  let nextJob = 0;
  let instanceSeconds = 0;
  let busyRemovedByScaler = 0;
  let idleKeptOverBusy = 0;
  let scalingCalls = 0;
  let desired = instances.length;

  for (let t = 0; t <= options.durationSeconds; t += stepSeconds) {
    // Jobs end; drained instances leave; booted ones come into service.
    for (const instance of instances) {
      const before = instance.running.length;
      instance.running = instance.running.filter((end) => end > t);
      if (before > 0 && instance.running.length === 0) instance.idleSince = t;
      if (instance.idleSince === undefined && instance.readyAt <= t && instance.running.length === 0) instance.idleSince = t;
    }
    instances = instances.filter((i) => !(i.draining && i.running.length === 0));
    while (nextJob < jobs.length && jobs[nextJob].arrival <= t) queue.push(jobs[nextJob++]);
    assign(queue, instances, t, concurrency, waits);

    const minute = (options.startMinuteOfWeek + Math.floor(t / 60)) % MINUTES_PER_WEEK;
    const envelope = demandEnvelope(options.fleet, minute);
    const view: FleetInstance[] = instances.map((i) => ({
      id: i.id,
      phase: i.draining ? 'draining' : i.readyAt <= t ? 'in-service' : 'booting',
      busySlots: i.readyAt <= t ? i.running.length : 0,
      idleSince: i.running.length === 0 && i.readyAt <= t ? i.idleSince : undefined,
    }));
    const decision = decideScaling({ envelope, queuedJobs: queue.length, instances: view, currentDesired: desired, settings, now: t });
    for (const id of decision.remove) {
      const instance = instances.find((i) => i.id === id);
      if (!instance) continue;
      if (instance.running.length > 0) busyRemovedByScaler++;
      instances = instances.filter((i) => i !== instance);
      scalingCalls++;
    }
    const active = instances.filter((i) => !i.draining);
    if (decision.desiredCapacity !== desired - decision.remove.length) scalingCalls++;
    desired = decision.desiredCapacity;
    if (desired > active.length) {
      for (let n = active.length; n < desired; n++) instances.push(launch(t + options.bootSeconds, t));
    } else if (desired < active.length) {
      // Any idle instance left here would let the group pick a busy one instead of it.
      if (active.some((i) => i.readyAt <= t && i.running.length === 0)) idleKeptOverBusy++;
      // The group's pick: booting first, then idle, then the least busy; busy ones drain.
      const order = [...active].sort(
        (a, b) => Number(a.readyAt <= t) - Number(b.readyAt <= t) || a.running.length - b.running.length || (a.id < b.id ? 1 : -1),
      );
      for (const victim of order.slice(0, active.length - desired)) {
        if (victim.running.length === 0) instances = instances.filter((i) => i !== victim);
        else victim.draining = true;
      }
    }
    instanceSeconds += instances.length * stepSeconds;

    if (sampleEvery > 0 && t % sampleEvery === 0) {
      samples.push({
        second: t,
        capacity: instances.filter((i) => !i.draining).length,
        billedInstances: instances.length,
        busySlots: instances.reduce((sum, i) => sum + i.running.length, 0),
        queuedJobs: queue.length,
        envelopeMin: envelope.min,
        envelopeMax: envelope.max,
      });
    }
  }
  return { samples, waitSeconds: waits, instanceSeconds, busyRemovedByScaler, idleKeptOverBusy, scalingCalls };
}

/** First come, first served onto the free slots of instances in service. */
function assign(
  queue: Array<{ index: number; arrival: number; durationSeconds: number }>,
  instances: readonly SimInstance[],
  t: number,
  concurrency: number,
  waits: Array<number | undefined>,
): void {
  for (const instance of instances) {
    if (instance.draining || instance.readyAt > t) continue;
    while (queue.length > 0 && instance.running.length < concurrency) {
      const job = queue.shift()!;
      instance.running.push(t + Math.max(1, job.durationSeconds));
      instance.idleSince = undefined;
      waits[job.index] = t - job.arrival;
    }
  }
}
