/**
 * The safety net in a mixed fleet with two runners: an on-demand instance registered with the
 * second (computetype-ondemand) runner, so its manager is deleted with that runner's token.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GitLabRunnerClient } from '../../lib/gitlab';
import { systemIdForInstance } from '../../lib/identity/runner-identity';
import { createSafetyNetHandler } from '../../lib/lambda/safety-net/handler';
import { SecretsManagerTokens } from '../../lib/lambda/shared/secrets';
import { mockedAwsClients } from '../support/aws-mocks';
import { FakeGitLab, fakeRunnerToken, type FakeRunner } from '../support/fake-gitlab';
import { FLEET, GROUP, sqsEvent, sqsRecord, terminateSuccessful, TOKEN_SECRET } from './events';

const INSTANCE = 'i-0123456789abcdef0';
const ON_DEMAND_SECRET = `${TOKEN_SECRET}-ondemand`;
const API_SECRET = 'gitlab-runner-fleet/api-token';

describe('safety net in a mixed fleet with an on-demand runner', () => {
  let gitlab: FakeGitLab;
  let spot: FakeRunner;
  let onDemand: FakeRunner;
  const { ec2, autoScaling, secrets, secretsMock, resetAwsMocks } = mockedAwsClients();
  let handler: ReturnType<typeof createSafetyNetHandler>;
  let apiToken: string;

  beforeEach(async () => {
    gitlab = new FakeGitLab();
    await gitlab.start();
    spot = gitlab.addRunner(fakeRunnerToken('mixspot'));
    onDemand = gitlab.addRunner(fakeRunnerToken('mixondemand'));
    resetAwsMocks();
    secretsMock.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).resolves({ SecretString: spot.token });
    secretsMock.on(GetSecretValueCommand, { SecretId: ON_DEMAND_SECRET }).resolves({ SecretString: onDemand.token });
    apiToken = ['glpat', 'safetynetmixedxxxx'].join('-');
    gitlab.allowApiToken(apiToken, ['api']);
    secretsMock.on(GetSecretValueCommand, { SecretId: API_SECRET }).resolves({ SecretString: apiToken });
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    handler = createSafetyNetHandler(() => ({
      config: {
        gitlabUrl: gitlab.url,
        fleets: [{ name: FLEET, autoScalingGroupName: GROUP, tokenSecretName: TOKEN_SECRET, onDemandTokenSecretName: ON_DEMAND_SECRET }],
        apiTokenSecretName: API_SECRET,
      },
      autoScaling,
      ec2,
      gitlab: new GitLabRunnerClient({ baseUrl: gitlab.url, timeoutMs: 5000, maxAttempts: 3, sleep: async () => {} }),
      tokens: () => new SecretsManagerTokens(secrets),
    }));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await gitlab.stop();
  });

  it('deletes the manager of an on-demand instance from the on-demand runner', async () => {
    gitlab.addManager(onDemand, systemIdForInstance(INSTANCE));

    const result = await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(result.batchItemFailures).toEqual([]);
    expect(gitlab.managerSystemIds(onDemand)).toEqual([]);
  });

  it('deletes the manager of a spot instance with the spot token only', async () => {
    gitlab.addManager(spot, systemIdForInstance(INSTANCE));

    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(gitlab.managerSystemIds(spot)).toEqual([]);
    expect(gitlab.requests.filter((r) => r.path === '/api/v4/runners/managers')).toHaveLength(1);
  });

  it('requeues the jobs an on-demand instance lost from the on-demand runner, the one it ran them for', async () => {
    gitlab.addManager(onDemand, systemIdForInstance(INSTANCE));
    const lost = gitlab.addJob(onDemand, systemIdForInstance(INSTANCE), { projectId: 42 });

    await handler(sqsEvent(sqsRecord(terminateSuccessful(INSTANCE))));

    expect(gitlab.requests.filter((r) => /\/jobs/.test(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/v4/runners/${onDemand.id}/jobs`,
      `POST /api/v4/projects/42/jobs/${lost.id}/cancel`,
      `POST /api/v4/projects/42/jobs/${lost.id}/retry`,
    ]);
  });
});
