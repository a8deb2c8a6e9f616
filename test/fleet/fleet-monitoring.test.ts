import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FLEETS_PER_DASHBOARD } from '../../lib/fleet/fleet-monitoring';
import { addFleetStacks } from '../../lib/stacks/fleet-app';
import { rawFleet, testConfig } from '../support/stack-helpers';

function shared(
  extra: Record<string, unknown> = {},
  fleets = [rawFleet({ name: 'spot-a', demandScaling: {} }), rawFleet({ name: 'plain-b' })],
) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stacks = addFleetStacks(app, testConfig(fleets, extra));
  const [spotA, plainB] = stacks.fleets.map((stack) => Template.fromStack(stack));
  return { app, shared: stacks.shared, template: Template.fromStack(stacks.shared), spotA, plainB, stacks };
}

interface Widget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly properties: { readonly title?: string; readonly metrics: unknown[][] };
}
interface Body {
  readonly widgets: Widget[];
}

/** The shared stack's dashboard body as CloudWatch reads it (tokens resolved to their template form, then joined). */
function resolvedBody(stack: {
  resolve: (x: unknown) => unknown;
  monitoring?: { dashboard?: { node: { defaultChild?: unknown } } };
}): string {
  const join = stack.resolve((stack.monitoring!.dashboard!.node.defaultChild as { dashboardBody: unknown }).dashboardBody) as {
    'Fn::Join': [string, unknown[]];
  };
  return join['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'eu-central-1')).join('');
}

function widgetTitled(stack: Parameters<typeof resolvedBody>[0], title: string): Widget {
  return (JSON.parse(resolvedBody(stack)) as Body).widgets.find((w) => w.properties.title === title)!;
}

/** [metric name, statistic] of a widget's metric line, following CloudWatch's '.' (same as the line above) shorthand. */
const nameAndStat = (line: unknown[], index: number, lines: unknown[][]): [string, string] => {
  let name = line[1];
  for (let i = index; name === '.'; i -= 1) name = lines[i - 1][1];
  return [String(name), String((line.at(-1) as { stat: string }).stat)];
};

function dashboardBody(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return JSON.stringify(dashboard.Properties.DashboardBody);
}

describe('FleetMonitoring', () => {
  it('builds one dashboard for the deployment with a row per fleet', () => {
    const { template } = shared();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = dashboardBody(template);
    for (const fleet of ['spot-a', 'plain-b']) {
      expect(body).toContain(`${fleet}: capacity vs busy slots vs queued jobs`);
      expect(body).toContain(`${fleet}: time to start (s)`);
      expect(body).toContain(`${fleet}: estimated cost (USD/h)`);
      expect(body).toContain(`${fleet}: boot to registered (s)`);
      expect(body).toContain(`${fleet}: spot interruptions`);
      expect(body).toContain(`${fleet}: drains`);
    }
  });

  it('lays each fleet out in two full rows of the 24-column grid', () => {
    const { shared: stack } = shared();
    const widgets = (JSON.parse(resolvedBody(stack)) as Body).widgets;
    const fleetWidgets = widgets.filter((w) => w.type === 'metric');
    expect(fleetWidgets).toHaveLength(12);
    const rows = new Map<number, number>();
    for (const w of fleetWidgets) rows.set(w.y, (rows.get(w.y) ?? 0) + w.width);
    expect([...rows.values()]).toEqual([24, 24, 24, 24]);
  });

  it('charts boot to registered p50/p95 with booting instances and registration failures of each fleet', () => {
    const lines = widgetTitled(shared().shared, 'spot-a: boot to registered (s)').properties.metrics;
    expect(lines.map(nameAndStat)).toEqual([
      ['BootToRegisteredSeconds', 'p50'],
      ['BootToRegisteredSeconds', 'p95'],
      ['GroupPendingInstances', 'Maximum'],
      ['RegistrationFailures', 'Sum'],
    ]);
    expect(lines[0].slice(0, 4)).toEqual(['GitLabRunnerFleet', 'BootToRegisteredSeconds', 'Fleet', 'spot-a']);
    expect(lines[2].slice(2, 4)).toEqual(['AutoScalingGroupName', 'gitlab-runner-fleet-spot-a']);
    expect(lines.slice(2).map((line) => (line.at(-1) as { yAxis?: string }).yAxis)).toEqual(['right', 'right']);
  });

  it('charts spot notices, rebalance recommendations and jobs failed by reclaim, with the on-demand fallback minutes', () => {
    const metrics = widgetTitled(shared().shared, 'spot-a: spot interruptions').properties.metrics.map(nameAndStat);
    expect(metrics).toEqual([
      ['SpotInterruptionNotices', 'Sum'],
      ['SpotRebalanceRecommendations', 'Sum'],
      ['JobsFailedByReclaim', 'Sum'],
      ['SpotFallbackMinutes', 'Sum'],
    ]);
  });

  it('charts drain duration p50 and max, the number of drains, deregistration failures and requeued orphaned jobs', () => {
    const metrics = widgetTitled(shared().shared, 'plain-b: drains').properties.metrics.map(nameAndStat);
    expect(metrics).toEqual([
      ['DrainSeconds', 'p50'],
      ['DrainSeconds', 'Maximum'],
      ['DrainSeconds', 'SampleCount'],
      ['DeregistrationFailures', 'Sum'],
      ['OrphanedJobsRequeued', 'Sum'],
      ['GroupTerminatingInstances', 'Maximum'],
    ]);
  });

  it('charts the fleet metrics in the GitLabRunnerFleet namespace by fleet, p50 and p95 of time to start', () => {
    const body = dashboardBody(shared().template);
    expect(body).toMatch(/GitLabRunnerFleet.*QueuedJobs.*Fleet.*spot-a/);
    expect(body).toMatch(/TimeToStartSeconds.*p50/);
    expect(body).toMatch(/TimeToStartSeconds.*p95/);
  });

  it('prices the cost line from the cost module (m7g.large spot in the us-east-1 snapshot)', () => {
    const body = dashboardBody(shared().template);
    expect(body).toMatch(/inService \* 0\.0\d+/);
  });

  it('creates anomaly detectors and band alarms on queued jobs and time to start of demand-scaled fleets, in the fleet stack', () => {
    const { template, spotA: fleetTemplate, plainB } = shared();
    template.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 0);
    plainB.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 0);
    fleetTemplate.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 2);
    fleetTemplate.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      SingleMetricAnomalyDetector: {
        Namespace: 'GitLabRunnerFleet',
        MetricName: 'QueuedJobs',
        Dimensions: [{ Name: 'Fleet', Value: 'spot-a' }],
      },
    });
    fleetTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanUpperThreshold',
      ThresholdMetricId: Match.anyValue(),
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('ANOMALY_DETECTION_BAND') }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'TimeToStartSeconds' }), Stat: 'p95' }) }),
      ]),
    });
  });

  it('alarms on instances stuck in Pending:Wait longer than the launch hook timeout', () => {
    shared().plainB.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GroupPendingInstances',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'gitlab-runner-fleet-plain-b' }],
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: 4,
    });
  });

  it('alarms on instances stuck in Terminating:Wait longer than a drain may take', () => {
    shared().spotA.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GroupTerminatingInstances',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'gitlab-runner-fleet-spot-a' }],
      Statistic: 'Minimum',
    });
  });

  it('alarms on any registration failure (a boot the launch hook abandoned) of every fleet', () => {
    shared().plainB.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GitLabRunnerFleet',
      MetricName: 'RegistrationFailures',
      Dimensions: [{ Name: 'Fleet', Value: 'plain-b' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on scaling errors of a demand-scaled fleet', () => {
    shared().spotA.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScalingErrors',
      Dimensions: [{ Name: 'Fleet', Value: 'spot-a' }],
    });
  });

  it('sends every alarm to a new topic with the configured email', () => {
    const { template, spotA, plainB } = shared({ monitoring: { alarmEmail: 'ops@example.com' } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const alarms = [template, spotA, plainB].flatMap((t) => Object.values(t.findResources('AWS::CloudWatch::Alarm')));
    expect(alarms.length).toBeGreaterThan(5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  it('uses an existing topic when alarmTopicArn is set', () => {
    const arn = 'arn:aws:sns:eu-central-1:123456789012:ops';
    const { template, spotA } = shared({ monitoring: { alarmTopicArn: arn } });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    spotA.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn] });
  });

  it('has no alarm actions and no topic by default', () => {
    const { template, spotA, plainB } = shared();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of [template, spotA, plainB].flatMap((t) => Object.values(t.findResources('AWS::CloudWatch::Alarm'))))
      expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('can be turned off', () => {
    const { template, shared: stack, spotA } = shared({ monitoring: { dashboard: false, alarms: false } });
    expect(stack.monitoring).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    spotA.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 0);
    spotA.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  it('is clean under cdk-nag AwsSolutions with an email topic', () => {
    const { app } = shared({ monitoring: { alarmEmail: 'ops@example.com' } });
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
  });

  it('keeps the shared stack the same size as fleets are added: the fleet alarms live in the fleet stacks', () => {
    const two = shared().template;
    const many = shared(
      {},
      Array.from({ length: 12 }, (_, i) => rawFleet({ name: `fleet-${i}`, demandScaling: {} })),
    ).template;
    expect(Object.keys(many.findResources('AWS::CloudWatch::Alarm')).length).toBe(
      Object.keys(two.findResources('AWS::CloudWatch::Alarm')).length,
    );
  });

  it("above FLEETS_PER_DASHBOARD fleets, puts one dashboard per chunk of fleets in the chunk's first fleet stack, none in the shared stack", () => {
    const fleets = Array.from({ length: FLEETS_PER_DASHBOARD + 1 }, (_, i) => rawFleet({ name: `fleet-${i}` }));
    const { template, shared: stack, stacks } = shared({ deployment: 'big', monitoring: { alarms: false } }, fleets);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(stack.monitoring?.dashboards).toHaveLength(2);
    const bodyOf = (index: number) =>
      Object.values(Template.fromStack(stacks.fleets[index]).findResources('AWS::CloudWatch::Dashboard')).map((d) =>
        JSON.stringify(d.Properties.DashboardBody),
      );
    const [first] = bodyOf(0);
    const [second] = bodyOf(FLEETS_PER_DASHBOARD);
    expect(bodyOf(1)).toEqual([]);
    expect(first).toContain(`fleet-${FLEETS_PER_DASHBOARD - 1}: time to start (s)`);
    expect(first).not.toContain(`fleet-${FLEETS_PER_DASHBOARD}: time to start (s)`);
    expect(second).toContain(`fleet-${FLEETS_PER_DASHBOARD}: time to start (s)`);
  });
});
