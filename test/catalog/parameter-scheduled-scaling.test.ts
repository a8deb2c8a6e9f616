import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { jitteredEnd, jitteredStart, ParameterScheduledScaling } from '../../lib/catalog/parameter-scheduled-scaling';
import { parseHandlerConfig } from '../../lib/lambda/shared/handler-config';

describe('parameter-valued schedule', () => {
  it('starts a window the jitter early, in the hour before when needed', () => {
    expect(jitteredStart(8, 9)).toBe('51 7');
    expect(jitteredStart(1, 9)).toBe('51 0');
    expect(jitteredStart(8, 0)).toBe('0 8');
  });

  it('ends a window the jitter late', () => {
    expect(jitteredEnd(18, 9)).toBe('9 18');
    expect(jitteredEnd(23, 0)).toBe('0 23');
  });

  it('rejects a jitter that is not a whole number of minutes within the hour', () => {
    const stack = new Stack(new App(), 'S');
    const make = (jitterMinutes: number) => () =>
      new ParameterScheduledScaling(stack, `S${jitterMinutes}`, {
        autoScalingGroup: { autoScalingGroupName: 'g' } as never,
        timeZone: 'UTC',
        workingDays: 'mon-fri',
        workStartHour: '08',
        workEndHour: '18',
        workingHoursCapacity: 1,
        offHoursCapacity: 0,
        jitterMinutes,
      });
    expect(make(60)).toThrow('jitterMinutes (60) must be a whole number from 0 to 59');
    expect(make(1.5)).toThrow('jitterMinutes (1.5)');
  });
});

describe('handler config registryPath', () => {
  it('accepts an SSM path and rejects anything else, naming the field', () => {
    expect(parseHandlerConfig(JSON.stringify({ gitlabUrl: 'https://g.example.com', fleets: [], registryPath: '/a/b/' })).registryPath).toBe(
      '/a/b/',
    );
    expect(() => parseHandlerConfig(JSON.stringify({ gitlabUrl: 'https://g.example.com', fleets: [], registryPath: 'a' }))).toThrow(
      'registryPath must be an SSM path starting and ending with /',
    );
  });
});
