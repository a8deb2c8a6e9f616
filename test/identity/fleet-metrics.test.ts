import { describe, expect, it } from 'vitest';
import { FLEET_METRIC_DIMENSION, FLEET_METRIC_NAMESPACE, fleetMetricDimensions } from '../../lib/identity/fleet-metrics';

describe('fleet metric naming', () => {
  it('given a fleet name, when its dimensions are built, then the fleet is the only dimension', () => {
    expect(fleetMetricDimensions('graviton-spot')).toEqual({ [FLEET_METRIC_DIMENSION]: 'graviton-spot' });
  });

  it('uses one namespace for every fleet', () => {
    expect(FLEET_METRIC_NAMESPACE).toBe('GitLabRunnerFleet');
  });
});
