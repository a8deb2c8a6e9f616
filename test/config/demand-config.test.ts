import { describe, expect, it } from 'vitest';
import { loadFleetConfig, parseFleetConfig } from '../../lib/config';
import { rawFleet } from '../support/stack-helpers';

const parse = (fleet: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseFleetConfig({ gitlab: { url: 'https://gitlab.example.com' }, fleets: [rawFleet(fleet)], ...extra });

describe('demand scaling config', () => {
  it('is off by default: the fleet follows its schedule only', () => {
    expect(parse({}).fleets[0].demandScaling).toBeUndefined();
  });

  it('an empty demandScaling block turns it on with the defaults; spot scales from zero', () => {
    expect(parse({ demandScaling: {} }).fleets[0].demandScaling).toEqual({
      targetBusyPercent: 70,
      scaleFromZero: true,
      warmInstances: 1,
      scaleInIdleMinutes: 10,
    });
  });

  it('an on-demand fleet does not scale from zero unless told to', () => {
    expect(parse({ computeType: 'on-demand', demandScaling: {} }).fleets[0].demandScaling?.scaleFromZero).toBe(false);
    expect(parse({ computeType: 'on-demand', demandScaling: { scaleFromZero: true } }).fleets[0].demandScaling?.scaleFromZero).toBe(true);
  });

  it('a fleet can turn it off', () => {
    expect(parse({ demandScaling: { enabled: false } }).fleets[0].demandScaling).toBeUndefined();
  });

  it('reports warmInstances above capacity.max and a target outside 10-100 together, by path', () => {
    expect(() => parse({ demandScaling: { warmInstances: 9, targetBusyPercent: 5 } })).toThrow(
      /fleets\[0\]\.demandScaling\.targetBusyPercent[\s\S]*fleets\[0\]\.demandScaling\.warmInstances.*<= capacity\.max \(4\)/,
    );
  });

  it('defaults the webhook secret, the tick and the monitoring', () => {
    const config = parse({ demandScaling: {} });
    expect(config.demand).toEqual({ webhookSecretName: 'gitlab-runner-fleet/webhook-token', scalerIntervalMinutes: 1 });
    expect(config.monitoring).toEqual({ dashboard: true, alarms: true });
  });

  it('takes a poll fallback with project ids', () => {
    const config = parse({ demandScaling: {} }, { demand: { poll: { apiTokenSecretName: 'ci/poll', projectIds: [7, 8] } } });
    expect(config.demand?.poll).toEqual({ apiTokenSecretName: 'ci/poll', projectIds: [7, 8], onTick: true });
  });

  it('refuses an alarm email that is not one', () => {
    expect(() => parse({}, { monitoring: { alarmEmail: 'ops' } })).toThrow(/monitoring\.alarmEmail/);
  });

  it('the bundled fleet.config.yaml has demand scaling on for both fleets', () => {
    expect(loadFleetConfig('fleet.config.yaml').fleets.map((f) => f.demandScaling !== undefined)).toEqual([true, true]);
  });
});
