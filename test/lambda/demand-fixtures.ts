import { normalizeFleetConfig, fleetConfigSchema } from '../../lib/config';
import { demandHandlerConfig } from '../../lib/lambda/shared/demand-config';

/** The bundled fleets' shape: a spot and an on-demand fleet, both arm64, both demand-scaled. */
export const DEMAND_CONFIG = demandHandlerConfig(
  normalizeFleetConfig(
    fleetConfigSchema.parse({
      gitlab: { url: 'https://gitlab.example.com' },
      fleets: [
        {
          name: 'graviton-spot',
          computeType: 'spot',
          instanceTypes: ['m7g.large'],
          concurrency: 10,
          capacity: { min: 0, max: 10, desired: 2 },
          schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
          demandScaling: {},
        },
        {
          name: 'graviton-ondemand',
          computeType: 'on-demand',
          instanceTypes: ['m7g.large'],
          concurrency: 4,
          capacity: { min: 0, max: 2, desired: 1 },
          schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
          demandScaling: {},
        },
      ],
    }),
  ).fleets,
  'gitlab-runner-fleet/webhook-token',
);

/** A job event with the job's own tags in build_tags (not in GitLab's documented payload: see demand-webhook-payload.test.ts). */
export function jobEvent(jobId: number, status: string, tags: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    object_kind: 'build',
    ref: 'main',
    tag: false,
    build_id: jobId,
    build_name: 'test',
    build_stage: 'test',
    build_status: status,
    build_created_at: '2026-11-30 19:00:00 UTC',
    build_started_at: status === 'running' ? '2026-11-30 19:00:42 UTC' : null,
    build_queued_duration: status === 'running' ? 42.5 : null,
    build_tags: tags,
    pipeline_id: 7,
    project_id: 3,
    ...extra,
  };
}

/** A webhook secret value built at test time. */
export function webhookToken(): string {
  return ['hook', 'x'.repeat(24)].join('-');
}
