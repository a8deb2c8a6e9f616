/**
 * AWS quotas a synthesized cloud assembly must fit, checked over the templates in `cdk.out`.
 * Each limit names the AWS page it comes from. Pure: reads template objects, no AWS calls.
 *
 * Sizes are measured as AWS measures them, after CloudFormation resolves intrinsic functions:
 * pseudo parameters are replaced by their longest real values and references to resources by
 * a generous placeholder, so a template that passes here does not fail at deploy time on size.
 */

const CFN_QUOTAS = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html';
const IAM_QUOTAS = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html';
const SQS_QUOTAS = 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html';
const SNS_QUOTAS = 'https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html#sns-policy-quotas';
const EVENTS_QUOTAS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html';
const LAMBDA_QUOTAS = 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html';
const AUTOSCALING_QUOTAS = 'https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html';
const CLOUDWATCH_QUOTAS = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html';

export interface Quota {
  readonly id: string;
  readonly what: string;
  readonly limit: number;
  readonly unit: string;
  readonly source: string;
  /** Account-wide and adjustable on request: reported, not failed. */
  readonly adjustableAccountQuota?: boolean;
}

/** Every quota the checker measures, with the AWS page that states it. */
export const QUOTAS = {
  stackResources: { id: 'cfn-resources', what: 'resources per stack', limit: 500, unit: 'resources', source: CFN_QUOTAS },
  stackOutputs: { id: 'cfn-outputs', what: 'outputs per stack', limit: 200, unit: 'outputs', source: CFN_QUOTAS },
  stackParameters: { id: 'cfn-parameters', what: 'parameters per stack', limit: 200, unit: 'parameters', source: CFN_QUOTAS },
  stackMappings: { id: 'cfn-mappings', what: 'mappings per stack', limit: 200, unit: 'mappings', source: CFN_QUOTAS },
  templateBytes: {
    id: 'cfn-template-size',
    what: 'template body size (uploaded to S3, as the CDK deploys it)',
    limit: 1_000_000,
    unit: 'bytes',
    source: CFN_QUOTAS,
  },
  roleInlinePolicies: {
    id: 'iam-role-inline',
    what: "aggregate size of a role's inline policies",
    limit: 10_240,
    unit: 'characters',
    source: IAM_QUOTAS,
  },
  managedPolicy: { id: 'iam-managed-policy', what: 'managed policy size', limit: 6_144, unit: 'characters', source: IAM_QUOTAS },
  trustPolicy: { id: 'iam-trust-policy', what: 'role trust policy size (default)', limit: 2_048, unit: 'characters', source: IAM_QUOTAS },
  managedPoliciesPerRole: {
    id: 'iam-managed-per-role',
    what: 'managed policies attached to a role (default)',
    limit: 10,
    unit: 'policies',
    source: IAM_QUOTAS,
  },
  sqsPolicyStatements: { id: 'sqs-statements', what: 'statements in a queue policy', limit: 20, unit: 'statements', source: SQS_QUOTAS },
  sqsPolicyBytes: { id: 'sqs-policy-size', what: 'queue policy size', limit: 8_192, unit: 'bytes', source: SQS_QUOTAS },
  snsPolicyStatements: { id: 'sns-statements', what: 'statements in a topic policy', limit: 100, unit: 'statements', source: SNS_QUOTAS },
  snsPolicyBytes: { id: 'sns-policy-size', what: 'topic policy size', limit: 30 * 1024, unit: 'bytes', source: SNS_QUOTAS },
  eventPattern: { id: 'events-pattern', what: 'EventBridge event pattern size', limit: 2_048, unit: 'characters', source: EVENTS_QUOTAS },
  lambdaEnvironment: {
    id: 'lambda-environment',
    what: 'Lambda environment variables, all together',
    limit: 4 * 1024,
    unit: 'bytes',
    source: LAMBDA_QUOTAS,
  },
  dashboardWidgets: { id: 'cw-dashboard-widgets', what: 'widgets per dashboard', limit: 500, unit: 'widgets', source: CLOUDWATCH_QUOTAS },
  dashboardMetrics: {
    id: 'cw-dashboard-metrics',
    what: 'metrics per dashboard, across all widgets (math inputs included)',
    limit: 2_500,
    unit: 'metrics',
    source: CLOUDWATCH_QUOTAS,
  },
  widgetMetrics: { id: 'cw-widget-metrics', what: 'metrics per dashboard widget', limit: 500, unit: 'metrics', source: CLOUDWATCH_QUOTAS },
  autoScalingGroups: {
    id: 'account-autoscaling-groups',
    what: 'Auto Scaling groups per account and Region (default, adjustable)',
    limit: 500,
    unit: 'groups',
    source: AUTOSCALING_QUOTAS,
    adjustableAccountQuota: true,
  },
  roles: {
    id: 'account-iam-roles',
    what: 'IAM roles per account (default, adjustable)',
    limit: 1_000,
    unit: 'roles',
    source: IAM_QUOTAS,
    adjustableAccountQuota: true,
  },
  instanceProfiles: {
    id: 'account-instance-profiles',
    what: 'instance profiles per account (default, adjustable)',
    limit: 1_000,
    unit: 'profiles',
    source: IAM_QUOTAS,
    adjustableAccountQuota: true,
  },
  stacks: {
    id: 'account-stacks',
    what: 'CloudFormation stacks per account and Region (default, adjustable)',
    limit: 2_000,
    unit: 'stacks',
    source: CFN_QUOTAS,
    adjustableAccountQuota: true,
  },
} as const satisfies Record<string, Quota>;

/** One measurement against one quota. */
export interface Measurement {
  readonly quota: Quota;
  /** Stack and resource (or the account) measured. */
  readonly subject: string;
  readonly value: number;
}

export const exceeds = (m: Measurement): boolean => m.value > m.quota.limit;

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface TemplateShape {
  readonly Resources?: Record<string, Resource>;
  readonly Outputs?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
  readonly Mappings?: Record<string, unknown>;
}

/** The part of a dashboard body the quotas count: widgets and the metric lines of each (expressions included). */
interface DashboardBody {
  readonly widgets?: ReadonlyArray<{ readonly properties?: { readonly metrics?: readonly unknown[] } }>;
}

/** Longest real values of the pseudo parameters, so sizes are never under-estimated. */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-5',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
  'AWS::StackName': 'x'.repeat(128),
  'AWS::StackId': `arn:aws-us-gov:cloudformation:ap-southeast-5:123456789012:stack/${'x'.repeat(128)}/${'0'.repeat(36)}`,
  'AWS::NoValue': '',
};

/** What a reference to a resource or attribute resolves to, at most (an ARN or URL of a CDK-named resource). */
const REFERENCE = 'r'.repeat(160);

/** A template value with intrinsic functions replaced by (over-)estimates of what they resolve to. */
export function resolveForSize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveForSize);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') return PSEUDO[String(arg)] ?? REFERENCE;
    if (key === 'Fn::GetAtt' || key === 'Fn::ImportValue') return REFERENCE;
    if (key === 'Fn::Join' && Array.isArray(arg)) {
      const [separator, parts] = arg as [string, unknown[]];
      return (Array.isArray(parts) ? parts : [parts]).map((p) => String(resolveForSize(p))).join(separator);
    }
    if (key === 'Fn::Sub') {
      const template = Array.isArray(arg) ? String(arg[0]) : String(arg);
      return template.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => PSEUDO[name] ?? REFERENCE);
    }
    if (key.startsWith('Fn::')) return REFERENCE;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveForSize(v)]));
}

/** Size of a policy document as IAM counts it: resolved, without whitespace. */
export function policySize(document: unknown): number {
  return JSON.stringify(resolveForSize(document)).length;
}

function statementsOf(document: unknown): unknown[] {
  const statement = (document as { Statement?: unknown } | undefined)?.Statement;
  return statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
}

/** Logical ids a `Roles`/`Queues`/`Topics` list refers to (by Ref). */
function referencedIds(list: unknown): string[] {
  return (Array.isArray(list) ? list : [])
    .map((item) => (item && typeof item === 'object' && 'Ref' in item ? String((item as { Ref: unknown }).Ref) : undefined))
    .filter((id): id is string => id !== undefined);
}

/** Every per-stack measurement of one template. */
export function measureTemplate(stack: string, template: TemplateShape, templateBytes: number): Measurement[] {
  const out: Measurement[] = [];
  const at = (subject: string) => `${stack}${subject ? `/${subject}` : ''}`;
  const resources = template.Resources ?? {};
  out.push({ quota: QUOTAS.stackResources, subject: at(''), value: Object.keys(resources).length });
  out.push({ quota: QUOTAS.stackOutputs, subject: at(''), value: Object.keys(template.Outputs ?? {}).length });
  out.push({ quota: QUOTAS.stackParameters, subject: at(''), value: Object.keys(template.Parameters ?? {}).length });
  out.push({ quota: QUOTAS.stackMappings, subject: at(''), value: Object.keys(template.Mappings ?? {}).length });
  out.push({ quota: QUOTAS.templateBytes, subject: at(''), value: templateBytes });

  const inlineByRole = new Map<string, number>();
  const managedByRole = new Map<string, number>();
  const queuePolicies = new Map<string, { statements: number; bytes: number }>();
  const topicPolicies = new Map<string, { statements: number; bytes: number }>();
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Role': {
        const inline = (Array.isArray(props.Policies) ? props.Policies : []) as Array<{ PolicyDocument?: unknown }>;
        inlineByRole.set(id, (inlineByRole.get(id) ?? 0) + inline.reduce((sum, p) => sum + policySize(p.PolicyDocument), 0));
        managedByRole.set(id, (managedByRole.get(id) ?? 0) + (Array.isArray(props.ManagedPolicyArns) ? props.ManagedPolicyArns.length : 0));
        out.push({ quota: QUOTAS.trustPolicy, subject: at(id), value: policySize(props.AssumeRolePolicyDocument) });
        break;
      }
      case 'AWS::IAM::Policy':
        for (const role of referencedIds(props.Roles))
          inlineByRole.set(role, (inlineByRole.get(role) ?? 0) + policySize(props.PolicyDocument));
        break;
      case 'AWS::IAM::ManagedPolicy':
        out.push({ quota: QUOTAS.managedPolicy, subject: at(id), value: policySize(props.PolicyDocument) });
        for (const role of referencedIds(props.Roles)) managedByRole.set(role, (managedByRole.get(role) ?? 0) + 1);
        break;
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy': {
        const targets = referencedIds(resource.Type === 'AWS::SQS::QueuePolicy' ? props.Queues : props.Topics);
        const byTarget = resource.Type === 'AWS::SQS::QueuePolicy' ? queuePolicies : topicPolicies;
        for (const target of targets.length > 0 ? targets : [id]) {
          const seen = byTarget.get(target) ?? { statements: 0, bytes: 0 };
          byTarget.set(target, {
            statements: seen.statements + statementsOf(props.PolicyDocument).length,
            bytes: seen.bytes + policySize(props.PolicyDocument),
          });
        }
        break;
      }
      case 'AWS::Events::Rule':
        if (props.EventPattern !== undefined)
          out.push({ quota: QUOTAS.eventPattern, subject: at(id), value: JSON.stringify(resolveForSize(props.EventPattern)).length });
        break;
      case 'AWS::CloudWatch::Dashboard': {
        const body = resolveForSize(props.DashboardBody);
        const widgets = (JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)) as DashboardBody).widgets ?? [];
        const perWidget = widgets.map((w) => w.properties?.metrics?.length ?? 0);
        out.push({ quota: QUOTAS.dashboardWidgets, subject: at(id), value: widgets.length });
        out.push({ quota: QUOTAS.dashboardMetrics, subject: at(id), value: perWidget.reduce((sum, n) => sum + n, 0) });
        out.push({ quota: QUOTAS.widgetMetrics, subject: at(id), value: Math.max(0, ...perWidget) });
        break;
      }
      case 'AWS::Lambda::Function': {
        const variables = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<
          string,
          unknown
        >;
        const bytes = Object.entries(variables).reduce(
          (sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(String(resolveForSize(value))),
          0,
        );
        out.push({ quota: QUOTAS.lambdaEnvironment, subject: at(id), value: bytes });
        break;
      }
    }
  }
  for (const [role, size] of inlineByRole) out.push({ quota: QUOTAS.roleInlinePolicies, subject: at(role), value: size });
  for (const [role, count] of managedByRole) out.push({ quota: QUOTAS.managedPoliciesPerRole, subject: at(role), value: count });
  for (const [queue, p] of queuePolicies) {
    out.push({ quota: QUOTAS.sqsPolicyStatements, subject: at(queue), value: p.statements });
    out.push({ quota: QUOTAS.sqsPolicyBytes, subject: at(queue), value: p.bytes });
  }
  for (const [topic, p] of topicPolicies) {
    out.push({ quota: QUOTAS.snsPolicyStatements, subject: at(topic), value: p.statements });
    out.push({ quota: QUOTAS.snsPolicyBytes, subject: at(topic), value: p.bytes });
  }
  return out;
}

/** Account-wide counts over all the stacks of one deployment, against default (adjustable) quotas. */
export function measureAccount(templates: readonly TemplateShape[]): Measurement[] {
  const count = (type: string) =>
    templates.reduce((sum, t) => sum + Object.values(t.Resources ?? {}).filter((r) => r.Type === type).length, 0);
  return [
    { quota: QUOTAS.stacks, subject: 'account', value: templates.length },
    { quota: QUOTAS.autoScalingGroups, subject: 'account', value: count('AWS::AutoScaling::AutoScalingGroup') },
    { quota: QUOTAS.roles, subject: 'account', value: count('AWS::IAM::Role') },
    { quota: QUOTAS.instanceProfiles, subject: 'account', value: count('AWS::IAM::InstanceProfile') },
  ];
}

/** The measurement closest to its limit for each quota (the one that matters), highest share first. */
export function worstPerQuota(measurements: readonly Measurement[]): Measurement[] {
  const worst = new Map<string, Measurement>();
  for (const m of measurements) {
    const current = worst.get(m.quota.id);
    if (!current || m.value / m.quota.limit > current.value / current.quota.limit) worst.set(m.quota.id, m);
  }
  return [...worst.values()].sort((a, b) => b.value / b.quota.limit - a.value / a.quota.limit);
}
