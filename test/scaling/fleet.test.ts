import { describe, expect, it } from 'vitest';
import { envelopeFleetOf, scalingSettingsOf } from '../../lib/scaling/fleet';
import { fleetSpec } from '../support/stack-helpers';

describe('demand scaling inputs of a fleet', () => {
  it('given a spot fleet without demandScaling, then it may scale from zero with the default warm instance and targets', () => {
    const fleet = fleetSpec({ computeType: 'spot' });
    expect(fleet.demandScaling).toBeUndefined();
    expect(envelopeFleetOf(fleet)).toMatchObject({ scaleFromZero: true, warmInstances: 1, scheduled: false });
    expect(scalingSettingsOf(fleet)).toEqual({ concurrency: fleet.concurrency, targetBusyRatio: 0.7, scaleInIdleSeconds: 600 });
  });

  it('given an on-demand fleet without demandScaling, then it never scales from zero', () => {
    expect(envelopeFleetOf(fleetSpec({ computeType: 'on-demand' })).scaleFromZero).toBe(false);
  });

  it('given demandScaling settings, then they override the defaults', () => {
    const fleet = fleetSpec({
      computeType: 'spot',
      capacity: { min: 0, max: 4, desired: 2 },
      demandScaling: { scaleFromZero: false, warmInstances: 2, targetBusyPercent: 50, scaleInIdleMinutes: 3 },
    });
    expect(envelopeFleetOf(fleet)).toMatchObject({ scaleFromZero: false, warmInstances: 2 });
    expect(scalingSettingsOf(fleet)).toMatchObject({ targetBusyRatio: 0.5, scaleInIdleSeconds: 180 });
  });
});
