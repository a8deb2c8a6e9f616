import { describe, expect, it } from 'vitest';
import { autoScalingGroupName, isInstanceId, runnerName, systemIdForInstance } from '../../lib/identity/runner-identity';

describe('runner identity', () => {
  it('derives a runner system_id from the last 12 hex digits of the instance id', () => {
    expect(systemIdForInstance('i-0123456789abcdef0')).toBe('s_56789abcdef0');
    expect(systemIdForInstance('i-1a2b3c4d')).toBe('s_00001a2b3c4d');
  });

  it('gives different instances of one fleet different system ids', () => {
    expect(systemIdForInstance('i-0123456789abcdef0')).not.toBe(systemIdForInstance('i-0123456789abcdef1'));
  });

  it('refuses something that is not an instance id', () => {
    expect(() => systemIdForInstance('i-xyz')).toThrow('"i-xyz" is not an EC2 instance id');
    expect(isInstanceId('i-0123456789abcdef0')).toBe(true);
    expect(isInstanceId('0123456789abcdef0')).toBe(false);
  });

  it('names runners by fleet, instance, account and region, and groups by fleet', () => {
    expect(runnerName('arm-spot', 'i-0123456789abcdef0', '123456789012', 'eu-central-1')).toBe(
      'arm-spot-i-0123456789abcdef0-123456789012-eu-central-1',
    );
    expect(autoScalingGroupName('arm-spot')).toBe('gitlab-runner-fleet-arm-spot');
  });
});
