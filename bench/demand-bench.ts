/**
 * Demand scaling benchmark: the pure scaling function over a simulated week at 1-minute steps
 * for 100 fleets, and the webhook handler's events per second in process (AWS clients stubbed,
 * so this measures our code, not the network). Run alone with `tsx bench/demand-bench.ts`, or
 * as part of `npm run bench` (printed after the other sections).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { capacityProfile, MINUTES_PER_WEEK, parseDays, type Weekday } from '../lib/config/schedule';
import { createWebhookHandler } from '../lib/lambda/demand-webhook/handler';
import type { DemandHandlerConfig } from '../lib/lambda/shared/demand-config';
import { simulateFleet, type SimulatedJob } from '../lib/scaling/simulate';
import type { EnvelopeFleet } from '../lib/scaling/envelope';

const FLEETS = 100;

/** A deterministic week of jobs: busy weekdays, a quiet weekend, a release burst every evening. */
function weekOfJobs(seed: number): SimulatedJob[] {
  let state = seed >>> 0 || 1;
  const random = () => ((state = Math.imul(state ^ (state >>> 15), 2246822519) >>> 0) % 1_000_000) / 1_000_000;
  const jobs: SimulatedJob[] = [];
  for (let minute = 0; minute < MINUTES_PER_WEEK; minute++) {
    const day = Math.floor(minute / 1440);
    const hour = Math.floor((minute % 1440) / 60);
    const rate = day < 5 ? (hour >= 8 && hour < 18 ? 0.6 : hour === 20 ? 1.5 : 0.02) : 0.01;
    if (random() < rate) jobs.push({ arrival: minute * 60, durationSeconds: 120 + Math.floor(random() * 900) });
  }
  return jobs;
}

const fleet: EnvelopeFleet = {
  capacity: { min: 0, max: 10 },
  profile: capacityProfile({
    windows: [{ days: parseDays('mon-fri') as Weekday[], start: '08:00', end: '18:00', desired: 2 }],
    minCapacity: 0,
    jitterMinutes: 3,
  }),
  scheduled: true,
  scaleFromZero: true,
  warmInstances: 1,
};

export function scalingWeekBench(): { fleets: number; steps: number; jobs: number; ms: number; decisionsPerSecond: number } {
  const weeks = Array.from({ length: FLEETS }, (_v, i) => weekOfJobs(i + 1));
  const started = performance.now();
  let steps = 0;
  for (const jobs of weeks) {
    simulateFleet({
      fleet,
      settings: { concurrency: 4, targetBusyRatio: 0.7, scaleInIdleSeconds: 600 },
      startMinuteOfWeek: 0,
      durationSeconds: MINUTES_PER_WEEK * 60 - 60,
      stepSeconds: 60,
      bootSeconds: 120,
      jobs,
      sampleEverySeconds: 0,
    });
    steps += MINUTES_PER_WEEK;
  }
  const ms = performance.now() - started;
  return {
    fleets: FLEETS,
    steps,
    jobs: weeks.reduce((s, w) => s + w.length, 0),
    ms: Math.round(ms),
    decisionsPerSecond: Math.round(steps / (ms / 1000)),
  };
}

export async function webhookBench(events = 20_000): Promise<{ events: number; ms: number; eventsPerSecond: number }> {
  const token = ['bench', 'x'.repeat(24)].join('-');
  const config: DemandHandlerConfig = {
    webhookSecretName: 'bench',
    fleets: [
      {
        name: 'bench',
        autoScalingGroupName: 'g',
        runnerTags: ['computetype-spot', 'arm64'],
        timeZone: 'UTC',
        envelope: fleet,
        settings: { concurrency: 4, targetBusyRatio: 0.7, scaleInIdleSeconds: 600 },
      },
    ],
  };
  const handler = createWebhookHandler(() => ({
    config,
    queueUrl: 'bench',
    sqs: { send: async () => ({}) } as unknown as SQSClient,
    secrets: { send: async () => ({ SecretString: token }) } as unknown as SecretsManagerClient,
    logger: () => {},
    metrics: () => {},
  }));
  const body = JSON.stringify({
    object_kind: 'build',
    build_id: 1,
    build_status: 'pending',
    build_tags: ['computetype-spot'],
    project_id: 1,
  });
  const event = {
    headers: { 'x-gitlab-token': token, 'x-gitlab-event': 'Job Hook' },
    body,
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
  const started = performance.now();
  for (let i = 0; i < events; i++) await handler(event);
  const ms = performance.now() - started;
  return { events, ms: Math.round(ms), eventsPerSecond: Math.round(events / (ms / 1000)) };
}

/** Runs both and prints a section; returns the figures. */
export async function runDemandBench(): Promise<Record<string, unknown>> {
  const week = scalingWeekBench();
  const webhook = await webhookBench();
  console.log('\n## Demand scaling');
  console.log(
    `scaling function: ${week.fleets} fleets x 1 simulated week at 1-minute steps (${week.steps} decisions, ${week.jobs} jobs) in ${week.ms} ms (${week.decisionsPerSecond} decisions/s)`,
  );
  console.log(`webhook handler in process: ${webhook.events} job events in ${webhook.ms} ms (${webhook.eventsPerSecond} events/s)`);
  return { week, webhook };
}

if (require.main === module) void runDemandBench();
