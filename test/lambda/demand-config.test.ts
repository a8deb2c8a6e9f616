import { describe, expect, it } from 'vitest';
import { demandHandlerConfig } from '../../lib/lambda/shared/demand-config';
import { fleetSpec } from '../support/stack-helpers';

describe('demandHandlerConfig', () => {
  const fleets = [fleetSpec({ name: 'scaled', demandScaling: {} }), fleetSpec({ name: 'plain' })];

  it('given no poll settings, then the config carries none and only the demand-scaled fleets', () => {
    const config = demandHandlerConfig(fleets, 'hook-secret');
    expect(config).not.toHaveProperty('poll');
    expect(config.fleets.map((fleet) => fleet.name)).toEqual(['scaled']);
    expect(config.webhookSecretName).toBe('hook-secret');
  });

  it('given poll settings, then the config carries them', () => {
    const poll = { apiTokenSecretName: 'poll-token', projectIds: [7, 9], onTick: true };
    expect(demandHandlerConfig(fleets, 'hook-secret', poll).poll).toEqual(poll);
  });

  it('given a named deployment, then the target group carries the deployment prefix', () => {
    const [fleet] = demandHandlerConfig([{ ...fleets[0], deployment: 'ci' }], 'hook-secret').fleets;
    expect(fleet.autoScalingGroupName).toBe('gitlab-runner-fleet.ci.scaled');
  });
});
