import { describe, expect, it } from 'vitest';
import {
  DRAIN_MARGIN_SECONDS,
  MAX_GLOBAL_TIMEOUT_SECONDS,
  MAX_HEARTBEAT_TIMEOUT_SECONDS,
  MIN_TERMINATE_HEARTBEAT_TIMEOUT_SECONDS,
  terminateHookTiming,
} from '../../lib/fleet/lifecycle-timing';

describe('terminateHookTiming', () => {
  it('uses the short floor timeout when 100 timeouts already cover the longest job', () => {
    // GIVEN a 60 minute job WHEN timing is computed
    const timing = terminateHookTiming(60);
    // THEN a dead agent blocks scale-in for 5 minutes only, yet 100 x 300 s covers 70 minutes
    expect(timing.heartbeatTimeoutSeconds).toBe(MIN_TERMINATE_HEARTBEAT_TIMEOUT_SECONDS);
    expect(timing.maxDrainSeconds).toBeGreaterThanOrEqual(60 * 60 + DRAIN_MARGIN_SECONDS);
  });

  it.each([1, 60, 120, 600, 1440, 2000, 2870])('covers a %i minute job plus margin within the AWS total cap', (minutes) => {
    const timing = terminateHookTiming(minutes);
    expect(timing.maxDrainSeconds).toBeGreaterThanOrEqual(Math.min(MAX_GLOBAL_TIMEOUT_SECONDS, minutes * 60 + DRAIN_MARGIN_SECONDS));
    expect(timing.heartbeatTimeoutSeconds).toBeLessThanOrEqual(MAX_HEARTBEAT_TIMEOUT_SECONDS);
  });

  it('grows the timeout for jobs longer than 100 floor timeouts', () => {
    // GIVEN a 24 h job: 86400 + 600 s needs 866 s per heartbeat, rounded up to whole minutes
    expect(terminateHookTiming(1440).heartbeatTimeoutSeconds).toBe(900);
  });

  it('caps the drain at 48 hours for the longest allowed job', () => {
    const timing = terminateHookTiming(2880);
    expect(timing.requiredDrainSeconds).toBe(MAX_GLOBAL_TIMEOUT_SECONDS);
    expect(timing.maxDrainSeconds).toBe(MAX_GLOBAL_TIMEOUT_SECONDS);
  });

  it('sends heartbeats at a third of the timeout', () => {
    const timing = terminateHookTiming(60);
    expect(timing.heartbeatIntervalSeconds).toBe(100);
    expect(timing.heartbeatIntervalSeconds * 3).toBeLessThanOrEqual(timing.heartbeatTimeoutSeconds);
  });

  it('rejects a job timeout below one minute, naming it', () => {
    expect(() => terminateHookTiming(0)).toThrow(/maxJobTimeoutMinutes \(0\)/);
  });
});
