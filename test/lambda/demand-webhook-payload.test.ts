/**
 * The job event as GitLab documents it (webhook events reference, "Job events"; the payload
 * Gitlab::DataBuilder::Build builds): every documented field, with this test's own values. It has
 * no list of the job's tags; `runner` (with the runner's `tags`) is null until a runner takes the job.
 */
import { describe, expect, it } from 'vitest';
import { classifyJobEvent, jobEventTags, UNTAGGED_PENDING } from '../../lib/lambda/demand-webhook/core';
import { DEMAND_CONFIG } from './demand-fixtures';

function documentedJobEvent(status: string, runner: Record<string, unknown> | null): Record<string, unknown> {
  const started = status === 'running';
  return {
    object_kind: 'build',
    ref: 'main',
    tag: false,
    before_sha: '0'.repeat(40),
    sha: 'a'.repeat(40),
    build_id: 4242,
    build_name: 'unit-tests',
    build_stage: 'test',
    build_status: status,
    build_created_at: '2026-11-30T19:00:00.000Z',
    build_created_at_iso: '2026-11-30T19:00:00Z',
    build_started_at: started ? '2026-11-30T19:01:13.000Z' : null,
    build_started_at_iso: started ? '2026-11-30T19:01:13Z' : null,
    build_finished_at: null,
    build_finished_at_iso: null,
    build_duration: started ? 0.4 : null,
    build_queued_duration: started ? 73.25 : null,
    build_allow_failure: false,
    build_failure_reason: 'unknown_failure',
    retries_count: 0,
    pipeline_id: 77,
    project_id: 12,
    project_name: 'platform / service',
    user: { id: 5, name: 'Dev', email: '[REDACTED]', avatar_url: null },
    commit: {
      id: 77,
      name: null,
      sha: 'a'.repeat(40),
      message: 'change\n',
      author_name: 'Dev',
      author_email: 'dev@example.com',
      status,
      duration: null,
      started_at: null,
      started_at_iso: null,
      finished_at: null,
      finished_at_iso: null,
    },
    repository: {
      name: 'service',
      description: '',
      homepage: 'https://gitlab.example.com/platform/service',
      git_ssh_url: 'git@gitlab.example.com:platform/service.git',
      git_http_url: 'https://gitlab.example.com/platform/service.git',
      visibility_level: 0,
    },
    project: { id: 12, name: 'service', path_with_namespace: 'platform/service', default_branch: 'main' },
    runner,
    environment: null,
  };
}

const spotRunner = {
  id: 31,
  description: 'graviton-spot',
  runner_type: 'group_type',
  active: true,
  is_shared: false,
  tags: ['computetype-spot', 'arm64'],
};

describe('job events shaped like the documented payload', () => {
  it('given a running job, places it on the fleet whose runner took it (runner.tags) and reads build_queued_duration as its time to start', () => {
    const verdict = classifyJobEvent(documentedJobEvent('running', spotRunner), DEMAND_CONFIG);

    expect(verdict).toEqual({
      kind: 'signal',
      signal: { fleet: 'graviton-spot', jobId: 4242, status: 'running', rank: 2 },
      timeToStartSeconds: 73.25,
    });
  });

  it('given a pending job (runner still null, no job tags in the payload) and no poll configured, ignores it and names the poll fallback', () => {
    const verdict = classifyJobEvent(documentedJobEvent('pending', null), DEMAND_CONFIG);

    expect(verdict).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/without job tags.*poll fallback/) });
  });

  it('given a pending job without tags and the poll configured, queues it as untagged, for the scaler to poll GitLab at once', () => {
    const config = { ...DEMAND_CONFIG, poll: { apiTokenSecretName: 'ci/poll-token', projectIds: [12], onTick: true } };

    const verdict = classifyJobEvent(documentedJobEvent('pending', null), config);

    expect(verdict).toEqual({
      kind: 'signal',
      signal: { fleet: UNTAGGED_PENDING, jobId: 4242, status: 'pending', rank: 1, projectId: 12 },
    });
  });

  it('given a finished job without tags, ignores it even with the poll configured (only pending jobs are demand)', () => {
    const config = { ...DEMAND_CONFIG, poll: { apiTokenSecretName: 'ci/poll-token', projectIds: [12], onTick: true } };

    expect(classifyJobEvent(documentedJobEvent('canceled', null), config)).toMatchObject({ kind: 'ignore' });
  });

  it('given a finished job taken by a runner of no fleet (e.g. a shared runner), ignores it', () => {
    const shared = { ...spotRunner, is_shared: true, runner_type: 'instance_type', tags: ['linux', 'docker'] };

    expect(classifyJobEvent(documentedJobEvent('success', shared), DEMAND_CONFIG)).toMatchObject({ kind: 'ignore' });
  });

  it("prefers the job's own build_tags where a GitLab sends them, over the runner's tags", () => {
    const payload = { ...documentedJobEvent('running', spotRunner), build_tags: ['computetype-ondemand'] };

    expect(jobEventTags(payload)).toEqual(['computetype-ondemand']);
    expect(classifyJobEvent(payload, DEMAND_CONFIG)).toMatchObject({ kind: 'signal', signal: { fleet: 'graviton-ondemand' } });
  });

  it('reads no tags from a runner whose tags are missing or not strings', () => {
    expect(jobEventTags(documentedJobEvent('running', { ...spotRunner, tags: null }))).toEqual([]);
    expect(jobEventTags(documentedJobEvent('running', { ...spotRunner, tags: [1, 'arm64'] }))).toEqual(['arm64']);
  });
});
