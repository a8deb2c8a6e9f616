import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig, type FleetConfig, type OrphanReaperSettings } from '../../lib/config';
import { OrphanReaper, orphanReaperSchedule } from '../../lib/fleet/orphan-reaper';

function config(): FleetConfig {
  return parseFleetConfig({
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper: { enabled: true },
    fleets: [{ name: 'alpha', computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 2 } }],
  });
}

function reaper(
  settings: Partial<OrphanReaperSettings> = {},
  extra: { fleets?: FleetConfig['fleets']; logRetention?: logs.RetentionDays } = {},
) {
  const c = config();
  const stack = new Stack(new App(), 'S');
  const construct = new OrphanReaper(stack, 'R', {
    fleets: extra.fleets ?? c.fleets,
    gitlab: c.gitlab,
    settings: { ...c.orphanReaper, ...settings },
    logRetention: extra.logRetention,
  });
  return { stack, construct };
}

describe('OrphanReaper settings validation, construct used directly', () => {
  it('rejects an empty fleet list', () => {
    expect(() => reaper({}, { fleets: [] })).toThrow(/OrphanReaper: fleets must hold at least one fleet/);
  });

  it('rejects a grace period below 5 minutes, naming the field', () => {
    expect(() => reaper({ graceMinutes: 2 })).toThrow(/settings\.graceMinutes \(2\) must be >= 5/);
  });

  it.each([3, 7.5])('rejects intervalMinutes %s, asking for a whole number >= 5', (intervalMinutes) => {
    expect(() => reaper({ intervalMinutes })).toThrow(`settings.intervalMinutes (${intervalMinutes}) must be a whole number >= 5`);
  });

  it('reports every problem at once', () => {
    expect(() => reaper({ graceMinutes: 1, intervalMinutes: 1 })).toThrow(/graceMinutes \(1\)[^;]*; settings\.intervalMinutes \(1\)/);
  });
});

describe('OrphanReaper logs', () => {
  it('keeps logs three months by default', () => {
    const { stack } = reaper();

    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('keeps logs as long as logRetention says', () => {
    const { stack } = reaper({}, { logRetention: logs.RetentionDays.ONE_YEAR });

    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });
});

describe('OrphanReaper alarm period', () => {
  it('evaluates errors over one interval for intervals up to a day', () => {
    const { stack } = reaper({ intervalMinutes: 30 });

    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Period: 1800, Threshold: 1 });
  });

  it('caps the evaluation period at one day for longer intervals', () => {
    const { stack } = reaper({ intervalMinutes: 2880 });

    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Period: 86400 });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: Match.stringLikeRegexp('^rate\\(2880 minutes\\)$'),
    });
  });
});

describe('orphanReaperSchedule edge cases', () => {
  it.each([0, -15, 2.5])('rejects an interval of %s minutes', (interval) => {
    expect(() => orphanReaperSchedule(interval, 'seed')).toThrow(`settings.intervalMinutes (${interval}) must be a whole number >= 1`);
  });

  it('runs every minute as a rate, with no minute to phase', () => {
    expect(orphanReaperSchedule(1, 'seed')).toEqual({ expression: 'rate(1 minute)' });
  });

  it('runs daily at an offset minute and hour', () => {
    expect(orphanReaperSchedule(1440, 'seed').expression).toMatch(/^cron\(([1-9]|[1-5]\d) ([0-9]|1\d|2[0-3])\/24 \* \* \? \*\)$/);
  });
});
