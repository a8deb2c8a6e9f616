/**
 * The fleet configuration file: its shape, defaults and cross-field rules.
 *
 * This is the only module that knows the YAML shape. Constructs take typed props built
 * from the parsed result, so they work from other CDK apps without any YAML.
 */
import { z } from 'zod';
import { ARCHITECTURES, architectureOf, type Architecture } from './instance-types';
import { formatPath, type ConfigProblem } from './errors';
import { DEPLOYMENT_NAME_LENGTH, deploymentNameProblem, MAX_UNSCOPED_FLEETS } from '../identity/deployment';
import { minuteOfDay, overlappingWindows, parseDays, WEEKDAYS, type UptimeWindow, type Weekday } from './schedule';
import { DEFAULT_ROTATION_EVERY_MONTHS, DEFAULT_ROTATION_WINDOW, ROTATION_INTERVAL_MONTHS, rotationWindow } from './token-rotation';
import { CATALOG_MAX_INSTANCES_LIMIT, CATALOG_PRODUCT_IDS, FLEET_SIZES } from './catalog-products';

/**
 * GitLab Runner version installed when a fleet does not pin one; bump it in a reviewed change,
 * together with its entry in {@link RUNNER_BINARY_SHA256}.
 */
export const DEFAULT_RUNNER_VERSION = '18.5.0';

/**
 * SHA-256 of GitLab's runner binaries (`/v<version>/binaries/gitlab-runner-linux-<amd64|arm64>`)
 * by version and architecture, lowercase hex, taken from the release's `release.sha256` after
 * checking its GPG signature (`release.sha256.asc`) with GitLab's release key. Instances install
 * only a binary that matches, whichever host (or `gitlab.runnerDownloadUrl` mirror) served it.
 *
 * A version without an entry (and without a fleet `runnerSha256`) is checked against the
 * `release.sha256` next to the binary instead: still fail-closed, but the checksum then comes
 * from the same host as the binary, and synth warns. No entry for 18.5.0 yet: its published
 * values could not be obtained and checked when this table was added (no network), and a
 * checksum is never written from memory.
 */
export const RUNNER_BINARY_SHA256: Readonly<Record<string, Readonly<Partial<Record<Architecture, string>>>>> = {};

/** The SHA-256 pinned in {@link RUNNER_BINARY_SHA256} for a runner version and architecture, if any. */
export function pinnedRunnerSha256(version: string, architecture: Architecture): string | undefined {
  return RUNNER_BINARY_SHA256[version]?.[architecture];
}
export const DEFAULT_MAX_JOB_TIMEOUT_MINUTES = 60;
export const DEFAULT_MAX_JITTER_MINUTES = 9;
export const COMPUTE_TYPES = ['spot', 'on-demand'] as const;
export const EXECUTORS = ['docker', 'shell'] as const;
export const DEFAULT_SPOT_FALLBACK_AFTER_MINUTES = 10;
export const DEFAULT_SPOT_FALLBACK_RETURN_AFTER_MINUTES = 60;
/** Where a fleet-managed GitLab runner is created (POST /api/v4/user/runners `runner_type`). */
export const RUNNER_SCOPES = ['instance', 'group', 'project'] as const;
export const RUNNER_ACCESS_LEVELS = ['not_protected', 'ref_protected'] as const;

const FLEET_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const RUNNER_VERSION = /^\d+\.\d+\.\d+$/;
const SECRET_NAME_RULE = 'must be a Secrets Manager name: 1-512 characters of letters, digits and / _ + = . @ -';

const httpsUrl = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).protocol === 'https:', {
    message: 'must be an https:// URL',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const nonNegativeInt = z.number().int().min(0);

const windowSchema = z
  .object({
    days: z
      .union([z.string(), z.array(z.string()).min(1)])
      .describe('Days the window starts on: mon-fri, [mon, wed], daily, weekdays, weekends.'),
    start: z.string().describe('Local start time HH:MM.'),
    end: z.string().describe('Local end time HH:MM (24:00 allowed); at or before start means the window crosses midnight.'),
    desired: nonNegativeInt.optional().describe('Instances during the window. Default: the fleet capacity.desired.'),
  })
  .strict();

const scheduleSchema = z
  .object({
    timeZone: z.string().describe('IANA time zone the windows are written in, e.g. Europe/Berlin.'),
    windows: z.array(windowSchema).min(1).describe('Weekly uptime windows; outside them the fleet runs capacity.min instances.'),
    maxJitterMinutes: z
      .number()
      .int()
      .min(0)
      .max(30)
      .default(DEFAULT_MAX_JITTER_MINUTES)
      .describe(
        'Windows start up to this many minutes early and end as much late, by a fixed amount derived from the fleet name, so fleets do not all hit GitLab on the same minute. 0 disables.',
      ),
  })
  .strict();

const capacitySchema = z
  .object({
    min: nonNegativeInt.default(0).describe('Instances outside the schedule windows (or always, as a floor).'),
    max: z
      .number()
      .int()
      .min(1, 'must be at least 1; to park a fleet (no instances, no cost), keep max and set capacity.desired and capacity.min to 0')
      .max(1000)
      .describe('Upper bound of the group.'),
    desired: nonNegativeInt
      .default(1)
      .describe('Instances during working hours (a window without its own desired), or always when there is no schedule.'),
  })
  .strict();

const networkSchema = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must look like vpc-0123456789abcdef0'),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must look like subnet-0123456789abcdef0')).min(1),
    availabilityZones: z
      .array(z.string())
      .optional()
      .describe('AZs of subnetIds, in the same order. Only needed for nicer names; not looked up.'),
  })
  .strict();

const spotFallbackSchema = z
  .object({
    enabled: z
      .boolean()
      .optional()
      .describe(
        'Let on-demand take over when spot capacity is gone. Default: true for spot fleets; on-demand fleets have nothing to fall back from.',
      ),
    afterMinutes: z
      .number()
      .int()
      .min(0)
      .max(1440)
      .default(DEFAULT_SPOT_FALLBACK_AFTER_MINUTES)
      .describe(
        'Minutes the fleet must stay short of spot capacity (launches failing with capacity errors) before on-demand takes over. 0: at the first capacity error.',
      ),
    returnAfterMinutes: z
      .number()
      .int()
      .min(5)
      .max(10080)
      .default(DEFAULT_SPOT_FALLBACK_RETURN_AFTER_MINUTES)
      .describe('Minutes without a capacity error, while on-demand covers for spot, before the fleet returns to spot.'),
  })
  .strict();

export const DEFAULT_TARGET_BUSY_PERCENT = 70;
export const DEFAULT_WARM_INSTANCES = 1;
export const DEFAULT_SCALE_IN_IDLE_MINUTES = 10;

const demandScalingSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Scale on queued jobs and busy slots inside the schedule. false: follow the schedule only.'),
    targetBusyPercent: z
      .number()
      .int()
      .min(10)
      .max(100)
      .default(DEFAULT_TARGET_BUSY_PERCENT)
      .describe('Share of job slots kept busy in working hours; the rest is headroom so the next job starts at once.'),
    scaleFromZero: z
      .boolean()
      .optional()
      .describe(
        'Outside the schedule windows, a pending job may still start instances (up to capacity.max). Default: true for spot fleets, false for on-demand.',
      ),
    warmInstances: nonNegativeInt
      .default(DEFAULT_WARM_INSTANCES)
      .describe('Idle instances kept in working hours (at most the window capacity), so the first job of a quiet hour starts at once.'),
    scaleInIdleMinutes: z
      .number()
      .int()
      .min(1)
      .max(240)
      .default(DEFAULT_SCALE_IN_IDLE_MINUTES)
      .describe('An idle instance leaves only after this long without a job (the end of a window removes idle instances at once).'),
  })
  .strict();

/** A GitLab group or project: its numeric id or its full path (`my-org/platform`). */
const namespaceRef = z.union([
  z.number().int().positive(),
  z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_./-]*$/, 'must be a numeric id or a full path such as my-org/platform'),
]);

const tokenRotationSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('false: keep the schedule but disabled, e.g. to pause rotation during a freeze without removing it.'),
    everyMonths: z
      .literal(ROTATION_INTERVAL_MONTHS)
      .default(DEFAULT_ROTATION_EVERY_MONTHS)
      .describe('Months between rotations; a divisor of 12, so the rotation months repeat every year.'),
    timeZone: z.string().optional().describe('IANA time zone of window. Default: the fleet schedule.timeZone, else UTC.'),
    window: z
      .string()
      .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'must be HH:MM-HH:MM, e.g. 01:00-05:00')
      .default(DEFAULT_ROTATION_WINDOW)
      .describe(
        'Local time span the rotation starts in (it may end after midnight). Each fleet gets its own day (1-28) and minute in it, derived from its name, never :00.',
      ),
  })
  .strict();

const gitlabRunnerSchema = z
  .object({
    scope: z.enum(RUNNER_SCOPES).describe('Runner type: instance (admin token), group or project.'),
    group: namespaceRef.optional().describe('scope group: the group id or full path, e.g. my-org/platform.'),
    project: namespaceRef.optional().describe('scope project: the project id or full path, e.g. my-org/platform/app.'),
    accessTokenSecretName: z
      .string()
      .regex(SECRET_NAME)
      .describe(
        'Secrets Manager secret holding a GitLab access token with the create_runner and manage_runner scopes (GitLab 17.1+), used to create, update and delete the runner.',
      ),
    runUntagged: z
      .boolean()
      .default(false)
      .describe('Let the runner pick jobs without tags. Off: only jobs that ask for its tags land here.'),
    locked: z
      .boolean()
      .optional()
      .describe('Lock the runner to its project, so it cannot be enabled for others. Default: true for scope project, else false.'),
    accessLevel: z.enum(RUNNER_ACCESS_LEVELS).default('not_protected').describe('ref_protected: only jobs on protected branches and tags.'),
    paused: z.boolean().default(false).describe('Create (or set) the runner paused: it takes no jobs.'),
    rotation: tokenRotationSchema
      .optional()
      .describe(
        'Rotate the runner token(s) on a schedule, as `runner-fleet rotate-token` does by hand: new runner, secret updated, instance refresh through the drain hook, old runner deleted once no manager uses it. Default: no scheduled rotation (see docs/gitlab-managed-runners.md).',
      ),
  })
  .strict();

const fleetSchema = z
  .object({
    name: z.string().regex(FLEET_NAME, 'must be 2-32 characters of a-z, 0-9 and -, starting with a letter and not ending with -'),
    computeType: z
      .enum(COMPUTE_TYPES)
      .describe('spot: cheap, can be reclaimed with 2 minutes notice. on-demand: for jobs that must not be interrupted.'),
    architecture: z.enum(ARCHITECTURES).default('arm64'),
    instanceTypes: z
      .array(z.string())
      .min(1)
      .describe('One or more instance types, all of the fleet architecture; more types mean deeper spot pools.'),
    concurrency: z.number().int().min(1).max(100).default(4).describe('Jobs one instance runs at once (config.toml concurrent).'),
    capacity: capacitySchema,
    onDemandBase: nonNegativeInt.default(0).describe('Spot fleets only: instances kept on-demand as a floor under the spot capacity.'),
    executor: z.enum(EXECUTORS).default('docker'),
    dockerImage: z
      .string()
      .min(1)
      .default('public.ecr.aws/docker/library/alpine:3.20')
      .describe('Default job image for the docker executor.'),
    runnerTags: z
      .array(z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'may hold letters, digits and _ . : -'))
      .default([])
      .describe('Extra GitLab runner tags, beside computetype-* and the architecture.'),
    volumeSizeGiB: z.number().int().min(8).max(16384).default(40),
    network: networkSchema.optional().describe('Existing VPC and subnets. Default: a new VPC with public subnets and no NAT gateway.'),
    runnerTokenSecretName: z
      .string()
      .regex(SECRET_NAME, SECRET_NAME_RULE)
      .optional()
      .describe(
        'Secrets Manager secret holding the glrt- runner authentication token. Default: gitlab-runner-fleet/<deployment>/<name>/runner-token, or gitlab-runner-fleet/<name>/runner-token without a deployment name. With gitlabRunner, the fleet creates it.',
      ),
    onDemandRunnerTokenSecretName: z
      .string()
      .regex(SECRET_NAME)
      .optional()
      .describe(
        'Spot fleets with onDemandBase: secret of a second runner tagged computetype-ondemand, used by the on-demand instances. Default: none without gitlabRunner (every instance uses runnerTokenSecretName); with gitlabRunner, the default runnerTokenSecretName plus -ondemand: gitlab-runner-fleet/<deployment>/<name>/runner-token-ondemand, or gitlab-runner-fleet/<name>/runner-token-ondemand without a deployment name.',
      ),
    gitlabRunner: gitlabRunnerSchema
      .optional()
      .describe(
        'Let the fleet create and own its GitLab runner(s) and token secret(s). Default: a runner you created, its token in runnerTokenSecretName.',
      ),
    maxJobTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(2880)
      .default(DEFAULT_MAX_JOB_TIMEOUT_MINUTES)
      .describe('Longest job the runners accept; a draining instance waits this long for running jobs.'),
    runnerVersion: z.string().regex(RUNNER_VERSION, 'must be a GitLab Runner release such as 18.5.0').default(DEFAULT_RUNNER_VERSION),
    runnerSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex (64 characters)')
      .optional()
      .describe(
        "SHA-256 of the runner binary for this fleet's runnerVersion and architecture (from GitLab's signed release.sha256). Instances refuse any other binary. Default: the checksum pinned in the repository for the version, else the release.sha256 published beside the binary.",
      ),
    minHealthyPercentage: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(50)
      .describe('Share of capacity kept in service while an update replaces instances.'),
    schedule: scheduleSchema.optional().describe('Weekly uptime. Default: always on at capacity.desired.'),
    spotFallback: spotFallbackSchema
      .optional()
      .describe(
        'Spot fleets: raise the on-demand base by the shortfall while spot capacity is gone, and return to spot later. On by default.',
      ),
    demandScaling: demandScalingSchema
      .optional()
      .describe('Scaling on demand inside the schedule (see docs/scaling.md). Default: off, the fleet follows the schedule only.'),
  })
  .strict();

const demandSchema = z
  .object({
    webhookSecretName: z
      .string()
      .regex(SECRET_NAME)
      .default('gitlab-runner-fleet/webhook-token')
      .describe('Secret holding the X-Gitlab-Token value the GitLab job-events webhook sends (a random string you choose).'),
    scalerIntervalMinutes: z
      .number()
      .int()
      .min(1)
      .max(15)
      .default(1)
      .describe('How often the scaler re-evaluates every demand-scaled fleet (idle scale-in, missed events), besides each webhook burst.'),
    poll: z
      .object({
        apiTokenSecretName: z
          .string()
          .regex(SECRET_NAME)
          .describe(
            'Secret holding a GitLab token with read_api on the projects (or an administrator token for the instance-wide jobs API).',
          ),
        projectIds: z
          .array(z.number().int().positive())
          .max(50)
          .default([])
          .describe(
            'Projects whose pending jobs are polled on each tick. Empty: the instance-wide jobs API (administrator token, self-managed GitLab).',
          ),
        onTick: z
          .boolean()
          .default(true)
          .describe(
            "Poll on every scaler tick. false: poll only when a job event names no tags (GitLab's job events carry none), and then only that event's project; any token with read_api on the projects will do, on every tier.",
          ),
      })
      .strict()
      .optional()
      .describe(
        "Reading GitLab's pending jobs: places the webhook's tagless pending events on a fleet, and is the fallback for setups without a webhook.",
      ),
  })
  .strict();

const monitoringSchema = z
  .object({
    dashboard: z.boolean().default(true).describe('CloudWatch dashboards for the deployment (one per 50 fleets), two rows per fleet.'),
    alarms: z
      .boolean()
      .default(true)
      .describe('Anomaly-band alarms on queued jobs and time to start, plain alarms on failures and stuck instances.'),
    alarmEmail: z.string().email().optional().describe('Subscribe this address to the alarm topic (it must confirm the subscription).'),
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
      .optional()
      .describe('Existing SNS topic the alarms notify. Default: a new topic when alarmEmail is set, otherwise no notification.'),
  })
  .strict();

const orphanReaperSchema = z
  .object({
    enabled: z.boolean().default(false),
    apiTokenSecretName: z
      .string()
      .regex(SECRET_NAME, SECRET_NAME_RULE)
      .default('gitlab-runner-fleet/api-token')
      .describe(
        'Secret holding a GitLab token that can read the fleets runners (read_api). With the api scope and Developer on the projects, the safety net also cancels and retries jobs lost when a machine stopped (see docs/spot.md).',
      ),
    intervalMinutes: z.number().int().min(15).max(1440).default(60),
    graceMinutes: z
      .number()
      .int()
      .min(5)
      .max(1440)
      .default(30)
      .describe('Managers younger than this are never reaped, so booting instances are safe.'),
  })
  .strict();

const gitlabSchema = z
  .object({
    url: httpsUrl.describe('GitLab instance, e.g. https://gitlab.com or https://gitlab.example.com.'),
    caCertificate: z
      .string()
      .regex(/-----BEGIN CERTIFICATE-----/, 'must be a PEM certificate bundle')
      .optional()
      .describe('PEM bundle for a self-managed GitLab with a private CA.'),
    registryMirror: httpsUrl
      .optional()
      .describe('Docker registry mirror or pull-through cache for the docker executor, so jobs do not depend on one public registry.'),
    runnerDownloadUrl: httpsUrl
      .optional()
      .describe('Base URL for GitLab Runner binaries (a mirror); /v<version>/binaries/gitlab-runner-linux-<arch> is appended.'),
    oidcProviderArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/,
        'must be an IAM OIDC provider ARN such as arn:aws:iam::123456789012:oidc-provider/gitlab.com',
      )
      .optional()
      .describe(
        'Existing IAM OIDC provider for this GitLab (one per URL and account) that deploy roles trust. Default: deployRoles creates one.',
      ),
  })
  .strict();

const DEPLOY_ROLE_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const PROJECT_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*(\/\*)?$/;
const IAM_POLICY_ARN = /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/;

const inlineStatementSchema = z
  .object({
    actions: z.array(z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9*]+$/, 'must be an IAM action such as s3:PutObject')).min(1),
    resources: z.array(z.string().min(1)).min(1).describe('Resource ARNs (or "*" where an action names no resource).'),
  })
  .strict();

const deployRoleSchema = z
  .object({
    name: z.string().regex(DEPLOY_ROLE_NAME, 'must be 2-32 characters of a-z, 0-9 and -, starting with a letter and not ending with -'),
    projectPath: z
      .string()
      .regex(PROJECT_PATH, 'must be a GitLab project path such as group/subgroup/project, or group/* for every project of a group')
      .describe("GitLab project whose jobs may assume the role (the ID token's project_path), or group/* for every project of a group."),
    refType: z.enum(['branch', 'tag']).default('branch').describe('Whether refs are branch or tag names.'),
    refs: z
      .array(z.string().regex(/^[^:\s]+$/, 'must be a branch or tag name without spaces or colons; * matches any characters'))
      .min(1)
      .describe('Branch or tag names (or patterns with *) whose pipelines may assume the role. Exact names are safest.'),
    protectedRefsOnly: z
      .boolean()
      .default(true)
      .describe(
        'The snippet runs the job only on protected refs. AWS cannot check this claim for GitLab: protect the refs in GitLab too (see docs/security.md).',
      ),
    environment: z
      .string()
      .min(1)
      .optional()
      .describe('GitLab environment the deploy job declares (use a protected environment; AWS cannot check this claim for GitLab).'),
    managedPolicyArns: z.array(z.string().regex(IAM_POLICY_ARN, 'must be an IAM policy ARN')).default([]),
    inlineStatements: z
      .array(inlineStatementSchema)
      .default([])
      .describe('Allow statements granted to the role, besides managedPolicyArns.'),
    fleets: z
      .array(z.string())
      .default([])
      .describe('Fleets whose runners the deploy job is routed to (by their runner tags). Empty: any runner.'),
    maxSessionDurationMinutes: z.number().int().min(60).max(720).default(60).describe('Longest session of the role, 60 to 720 minutes.'),
  })
  .strict();

/** The cost estimate's baseline: the always-on x86 instance one runner replaces (as in the GitLab blog's 97% example). */
export const DEFAULT_BASELINE_INSTANCE_TYPE = 'm5.xlarge';
/** No performance credit for Graviton unless the user states one (see lib/cost/estimate.ts for why). */
export const DEFAULT_GRAVITON_PERFORMANCE_FACTOR = 1;

const hourlyPrice = z.number().positive().max(1000);

const costSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')
      .optional()
      .describe('Region priced by `runner-fleet cost` when --region is not given. Default: us-east-1.'),
    baselineInstanceType: z
      .string()
      .refine((type) => architectureOf(type) !== undefined, { message: 'must be an EC2 instance type such as m5.xlarge' })
      .default(DEFAULT_BASELINE_INSTANCE_TYPE)
      .describe('Always-on on-demand instance each runner is compared with (one per peak instance).'),
    gravitonPerformanceFactor: z
      .number()
      .positive()
      .max(2)
      .default(DEFAULT_GRAVITON_PERFORMANCE_FACTOR)
      .describe(
        "Share of the time arm64 instances need for the same work: 1 = no credit, 0.735 = 36% faster (1/1.36), 0.64 = the GitLab blog's 97% example.",
      ),
    prices: z
      .record(
        z.string(),
        z
          .object({
            onDemand: hourlyPrice.optional().describe('USD per hour, on-demand.'),
            spot: hourlyPrice.optional().describe('USD per hour, spot.'),
          })
          .strict(),
      )
      .default({})
      .describe('Per instance type price overrides, USD per hour, e.g. { "m6g.large": { spot: 0.0419 } }.'),
  })
  .strict();

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ROLE_NAME_PATTERN = /^[\w+=,.@*?-]{1,64}$/;
const TAG_KEY = /^[A-Za-z0-9 _.:/=+@-]{1,127}$/;

const catalogProductSchema = z
  .object({
    allowedSizes: z
      .array(z.enum(FLEET_SIZES))
      .min(1)
      .default([...FLEET_SIZES])
      .describe('Sizes the form offers (small = 2 vCPUs, medium = 4, large = 8 per instance).'),
    maxInstances: z
      .number()
      .int()
      .min(1)
      .max(CATALOG_MAX_INSTANCES_LIMIT)
      .default(10)
      .describe('Highest "maximum instances" an end user may choose for one fleet.'),
  })
  .strict();

const catalogSchema = z
  .object({
    portfolioName: z.string().min(1).max(100).default('GitLab runner fleets'),
    assetBucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 characters of a-z, 0-9, . and -')
      .describe('S3 bucket (created by the catalog stack, globally unique name) holding the Lambda code of the product versions.'),
    owner: z.string().min(1).max(8191).default('Platform team').describe('Shown as the provider of the portfolio and its products.'),
    supportEmail: z.string().email().optional().describe('Where end users ask for help; shown with every product.'),
    principals: z
      .object({
        roleArns: z
          .array(z.string().regex(ROLE_ARN, 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/Developers'))
          .default([])
          .describe('IAM roles of this account granted the portfolio.'),
        roleNamePatterns: z
          .array(z.string().regex(ROLE_NAME_PATTERN, 'must be an IAM role name, * and ? allowed, such as AWSReservedSSO_RunnerUsers_*'))
          .max(10)
          .default([])
          .describe(
            'Role name patterns (IAM_PATTERN), e.g. the IAM Identity Center permission-set roles AWSReservedSSO_<set>_*; they also apply in accounts the portfolio is shared with. At most 10 (AWS limit).',
          ),
      })
      .strict()
      .describe('Who may launch products: at least one role ARN or name pattern.'),
    sharing: z
      .object({
        accounts: z
          .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
          .default([])
          .describe('Accounts the portfolio is shared with (tag options included).'),
        organizationalUnits: z
          .array(
            z
              .string()
              .regex(/^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/, 'must be an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)'),
          )
          .default([])
          .describe(
            'Organizational units (or the root) shared with, with principal sharing so the role name patterns apply there too. Needs the management or a delegated administrator account.',
          ),
      })
      .strict()
      .optional()
      .describe('Sharing with other accounts of the AWS Organization. Default: not shared.'),
    tagOptions: z
      .record(
        z.string().regex(TAG_KEY, 'must be a tag key of letters, digits, spaces and _ . : / = + @ -'),
        z.array(z.string().min(1).max(255)).min(1),
      )
      .default({})
      .describe(
        'Tag keys every launched fleet carries, each with the values an end user picks from, e.g. { team: [platform, web], cost-center: ["1001"] }.',
      ),
    products: z
      .object(
        Object.fromEntries(CATALOG_PRODUCT_IDS.map((id) => [id, catalogProductSchema.optional()])) as Record<
          (typeof CATALOG_PRODUCT_IDS)[number],
          z.ZodOptional<typeof catalogProductSchema>
        >,
      )
      .strict()
      .describe('Products the portfolio offers, with their limits; at least one. {} takes the defaults.'),
  })
  .strict();

export const fleetConfigSchema = z
  .object({
    $schema: z.string().optional(),
    gitlab: gitlabSchema,
    orphanReaper: orphanReaperSchema.default({
      enabled: false,
      apiTokenSecretName: 'gitlab-runner-fleet/api-token',
      intervalMinutes: 60,
      graceMinutes: 30,
    }),
    awsTags: z.record(z.string(), z.string()).default({}).describe('Tags applied to every AWS resource.'),
    fleets: z.array(fleetSchema).min(1),
    deployment: z
      .string()
      .min(DEPLOYMENT_NAME_LENGTH.min)
      .max(DEPLOYMENT_NAME_LENGTH.max)
      .refine((name) => deploymentNameProblem(name) === undefined, {
        message: 'must be a-z and 0-9 in words joined by single hyphens, starting with a letter (e.g. ci, team-a)',
      })
      .optional()
      .describe(
        `Names this deployment of the fleets in its account and region. Prefixes the Auto Scaling group names (gitlab-runner-fleet.<deployment>.<fleet>), the default token secret names (gitlab-runner-fleet/<deployment>/<fleet>/runner-token) and the stack names, so the shared stack's Lambdas reach only this deployment's groups and secrets, by prefix, at any fleet count. Required above ${MAX_UNSCOPED_FLEETS} fleets. Default: none (unprefixed names, each fleet listed).`,
      ),
    demand: demandSchema.optional().describe('The job-events webhook and scaler shared by the demand-scaled fleets.'),
    monitoring: monitoringSchema.optional().describe('Dashboard and alarms. Default: both on, no notification target.'),
    deployRoles: z
      .array(deployRoleSchema)
      .default([])
      .describe('IAM roles CD jobs assume with GitLab OIDC ID tokens, instead of deploy rights on the instance role.'),
    cost: costSchema.optional().describe('Settings of the `runner-fleet cost` estimate.'),
    catalog: catalogSchema
      .optional()
      .describe('An AWS Service Catalog portfolio of runner fleet products (the gitlab-runner-fleet-catalog stack). Default: none.'),
  })
  .strict();

/**
 * Rules that span fields (unique names, instance types matching the architecture, capacity
 * ordering, schedule windows). Written against unvalidated input so they run even when
 * other fields failed the schema, and every problem is reported in one pass.
 */
export function crossFieldProblems(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: PropertyKey[], message: string) => problems.push({ path: formatPath(path), message });
  const fleets = isRecord(raw) && Array.isArray(raw.fleets) ? raw.fleets : [];
  if (isRecord(raw) && raw.deployment === undefined && fleets.length > MAX_UNSCOPED_FLEETS) {
    add(
      ['deployment'],
      `is required above ${MAX_UNSCOPED_FLEETS} fleets (this config has ${fleets.length}): it scopes the shared Lambdas' access to this deployment's groups and token secrets by name prefix (e.g. deployment: ci)`,
    );
  }
  const seen = new Map<string, number>();
  fleets.forEach((fleet: unknown, i) => {
    if (!isRecord(fleet)) return;
    const path = ['fleets', i];
    if (typeof fleet.name === 'string') {
      const first = seen.get(fleet.name);
      if (first !== undefined)
        add([...path, 'name'], `"${fleet.name}" is already the name of fleets[${first}]; fleet names must be unique`);
      else seen.set(fleet.name, i);
    }
    const architecture = fleet.architecture ?? 'arm64';
    const types = Array.isArray(fleet.instanceTypes) ? fleet.instanceTypes : [];
    types.forEach((type: unknown, t) => {
      if (typeof type !== 'string') return;
      const arch = architectureOf(type);
      if (arch === undefined)
        add([...path, 'instanceTypes', t], `"${type}" is not a supported EC2 instance type name (e.g. m7g.large, c7g.xlarge)`);
      else if (typeof architecture === 'string' && arch !== architecture)
        add([...path, 'instanceTypes', t], `${type} is ${arch}, fleet architecture is ${architecture}`);
      if (types.indexOf(type) !== t) add([...path, 'instanceTypes', t], `${type} is listed twice`);
    });
    // A value that breaks its own rule is reported by the schema; comparing it again would report
    // the same root cause twice, at keys that are fine. Unwritten values are labelled as defaults.
    const capacity = isRecord(fleet.capacity) ? fleet.capacity : {};
    const min = setting(capacity.min, 0, 0, Number.MAX_SAFE_INTEGER);
    const max = setting(capacity.max, undefined, 1, 1000);
    const desired = setting(capacity.desired, 1, 0, Number.MAX_SAFE_INTEGER);
    if (min.valid && max.valid && min.value > max.value)
      add([...path, 'capacity', 'min'], `min (${min.text}) must be <= max (${max.text})`);
    else if (desired.valid && min.valid && max.valid && (desired.value < min.value || desired.value > max.value))
      add(
        [...path, 'capacity', desired.written ? 'desired' : 'min'],
        `desired (${desired.text}) must be between min (${min.text}) and max (${max.text})${desired.written ? '' : '; set capacity.desired'}`,
      );
    const onDemandBase = setting(fleet.onDemandBase, 0, 0, Number.MAX_SAFE_INTEGER);
    if (fleet.computeType === 'on-demand' && onDemandBase.written && onDemandBase.value > 0)
      add([...path, 'onDemandBase'], 'only applies to spot fleets; an on-demand fleet is on-demand throughout');
    else if (onDemandBase.valid && max.valid && onDemandBase.value > max.value)
      add([...path, 'onDemandBase'], `onDemandBase (${onDemandBase.text}) must be <= capacity.max (${max.text})`);
    const fallback = isRecord(fleet.spotFallback) ? fleet.spotFallback : undefined;
    if (fleet.computeType === 'on-demand' && fallback?.enabled === true)
      add([...path, 'spotFallback', 'enabled'], 'only applies to spot fleets; an on-demand fleet has no spot capacity to fall back from');
    const network = isRecord(fleet.network) ? fleet.network : undefined;
    if (
      network &&
      Array.isArray(network.availabilityZones) &&
      Array.isArray(network.subnetIds) &&
      network.availabilityZones.length !== network.subnetIds.length
    ) {
      add([...path, 'network', 'availabilityZones'], 'must list one AZ per subnetIds entry, in the same order');
    }
    const demand = isRecord(fleet.demandScaling) ? fleet.demandScaling : undefined;
    if (demand && typeof demand.warmInstances === 'number' && max.valid && demand.warmInstances > max.value) {
      add([...path, 'demandScaling', 'warmInstances'], `warmInstances (${demand.warmInstances}) must be <= capacity.max (${max.text})`);
    }
    if (isRecord(fleet.gitlabRunner)) gitlabRunnerProblems(fleet.gitlabRunner, [...path, 'gitlabRunner'], add);
    if (fleet.onDemandRunnerTokenSecretName !== undefined && (fleet.computeType !== 'spot' || onDemandBase.value === 0)) {
      add(
        [...path, 'onDemandRunnerTokenSecretName'],
        'only applies to spot fleets with onDemandBase > 0 (their on-demand instances use it)',
      );
    }
    if (isRecord(fleet.schedule)) scheduleProblems(fleet.schedule, { min, max, desired }, [...path, 'schedule'], add);
  });
  const roles = isRecord(raw) && Array.isArray(raw.deployRoles) ? raw.deployRoles : [];
  const fleetNames = new Set(fleets.filter(isRecord).map((fleet) => fleet.name));
  const seenRoles = new Map<string, number>();
  roles.forEach((role: unknown, i) => {
    if (!isRecord(role)) return;
    const path = ['deployRoles', i];
    if (typeof role.name === 'string') {
      const first = seenRoles.get(role.name);
      if (first !== undefined) add([...path, 'name'], `"${role.name}" is already the name of deployRoles[${first}]; names must be unique`);
      else seenRoles.set(role.name, i);
    }
    const managed = Array.isArray(role.managedPolicyArns) ? role.managedPolicyArns : [];
    const inline = Array.isArray(role.inlineStatements) ? role.inlineStatements : [];
    if (managed.length === 0 && inline.length === 0) {
      add(path, 'grants nothing: give managedPolicyArns or inlineStatements');
    }
    (Array.isArray(role.fleets) ? role.fleets : []).forEach((fleet: unknown, f) => {
      if (typeof fleet === 'string' && !fleetNames.has(fleet)) {
        add([...path, 'fleets', f], `"${fleet}" is not a fleet of this config (fleets: ${[...fleetNames].join(', ')})`);
      }
    });
  });
  if (isRecord(raw) && isRecord(raw.catalog)) catalogProblems(raw.catalog, add);
  return problems;
}

function gitlabRunnerProblems(
  runner: Record<string, unknown>,
  path: PropertyKey[],
  add: (path: PropertyKey[], message: string) => void,
): void {
  const scope = runner.scope;
  for (const key of ['group', 'project'] as const) {
    if (scope === key && runner[key] === undefined) add([...path, key], `is required with scope ${key} (an id or a full path)`);
    if (scope !== key && runner[key] !== undefined) add([...path, key], `only applies to scope ${key}; scope is ${String(scope)}`);
  }
  const rotation = isRecord(runner.rotation) ? runner.rotation : undefined;
  if (rotation && typeof rotation.timeZone === 'string' && !isTimeZone(rotation.timeZone)) {
    add([...path, 'rotation', 'timeZone'], `"${rotation.timeZone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  }
  if (
    rotation &&
    typeof rotation.window === 'string' &&
    /^\d{2}:\d{2}-\d{2}:\d{2}$/.test(rotation.window) &&
    !rotationWindow(rotation.window)
  ) {
    add(
      [...path, 'rotation', 'window'],
      `"${rotation.window}" is not a time span: use HH:MM-HH:MM with times from 00:00 to 23:59 (the end may be 24:00) and distinct ends`,
    );
  }
}

function scheduleProblems(
  schedule: Record<string, unknown>,
  capacity: { min: Setting; max: Setting; desired: Setting },
  path: PropertyKey[],
  add: (path: PropertyKey[], message: string) => void,
): void {
  if (typeof schedule.timeZone === 'string' && !isTimeZone(schedule.timeZone)) {
    add([...path, 'timeZone'], `"${schedule.timeZone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  }
  const rawWindows = Array.isArray(schedule.windows) ? schedule.windows : [];
  const windows: UptimeWindow[] = [];
  rawWindows.forEach((window: unknown, w) => {
    if (!isRecord(window)) return;
    const wPath = [...path, 'windows', w];
    let valid = true;
    const days = typeof window.days === 'string' || Array.isArray(window.days) ? parseDays(window.days as string | string[]) : undefined;
    if (typeof days === 'string') {
      valid = false;
      add([...wPath, 'days'], days);
    }
    for (const key of ['start', 'end'] as const) {
      const value = window[key];
      if (typeof value !== 'string') continue;
      if (minuteOfDay(value) === undefined || (key === 'start' && value === '24:00')) {
        valid = false;
        add([...wPath, key], `"${value}" is not a time; use HH:MM from 00:00 to ${key === 'end' ? '24:00' : '23:59'}`);
      }
    }
    if (typeof window.start !== 'string' || typeof window.end !== 'string' || days === undefined) valid = false;
    if (valid && minuteOfDay(window.start as string) === minuteOfDay(window.end as string)) {
      valid = false;
      add([...wPath, 'end'], 'start and end are equal; a window needs a length (use 00:00-24:00 for a whole day)');
    }
    // A window without its own desired inherits capacity.desired, which is checked (once) there.
    const desired = setting(window.desired, capacity.desired.value, 0, Number.MAX_SAFE_INTEGER);
    const { min, max } = capacity;
    if (desired.written && desired.valid && min.valid && max.valid && (desired.value > max.value || desired.value < min.value)) {
      add([...wPath, 'desired'], `desired (${desired.text}) must be between capacity.min (${min.text}) and capacity.max (${max.text})`);
    }
    if (valid) windows.push({ days: days as Weekday[], start: window.start as string, end: window.end as string, desired: desired.value });
  });
  if (windows.length !== rawWindows.length) return;
  for (const [a, b, day] of overlappingWindows(windows)) {
    add([...path, 'windows', b], `overlaps windows[${a}] on ${day}; windows must not overlap`);
  }
}

function catalogProblems(catalog: Record<string, unknown>, add: (path: PropertyKey[], message: string) => void): void {
  const principals = isRecord(catalog.principals) ? catalog.principals : {};
  const listed = (value: unknown) => (Array.isArray(value) ? value.length : 0);
  if (isRecord(catalog.principals) && listed(principals.roleArns) + listed(principals.roleNamePatterns) === 0) {
    add(['catalog', 'principals'], 'must grant the portfolio to at least one role: list roleArns or roleNamePatterns');
  }
  if (isRecord(catalog.products) && Object.keys(catalog.products).length === 0) {
    add(['catalog', 'products'], `must offer at least one product: ${CATALOG_PRODUCT_IDS.join(', ')}`);
  }
  const sharing = isRecord(catalog.sharing) ? catalog.sharing : {};
  if (listed(sharing.organizationalUnits) > 0 && listed(principals.roleNamePatterns) === 0) {
    add(
      ['catalog', 'sharing', 'organizationalUnits'],
      'principal sharing only carries role name patterns to member accounts; list catalog.principals.roleNamePatterns',
    );
  }
  for (const [key, values] of Object.entries(isRecord(catalog.tagOptions) ? catalog.tagOptions : {})) {
    if (!Array.isArray(values)) continue;
    values.forEach((value: unknown, i) => {
      if (values.indexOf(value) !== i) add(['catalog', 'tagOptions', key, i], `${JSON.stringify(value)} is listed twice`);
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A numeric setting as cross-field rules see it: its value, whether the user wrote it, whether it passes its own bounds. */
interface Setting {
  readonly value: number;
  readonly written: boolean;
  /** False when the value breaks its own rule (reported by the schema) or is unknown. */
  readonly valid: boolean;
  /** The value for messages, `1, the default` when it was not written. */
  readonly text: string;
}

function setting(raw: unknown, fallback: number | undefined, lowest: number, highest: number): Setting {
  if (raw === undefined) {
    return { value: fallback ?? Number.NaN, written: false, valid: fallback !== undefined, text: `${fallback}, the default` };
  }
  const known = typeof raw === 'number' && Number.isInteger(raw);
  return { value: known ? raw : Number.NaN, written: true, valid: known && raw >= lowest && raw <= highest, text: String(raw) };
}

/** Answers of {@link isTimeZone}: building a DateTimeFormat is costly, and 1,000 fleets share a few zones. */
const timeZoneAnswers = new Map<string, boolean>();
let canonicalTimeZones: ReadonlySet<string> | undefined;

/** True for names the runtime's IANA database knows (the same names AWS accepts). */
export function isTimeZone(name: string): boolean {
  if (!name.includes('/') && name !== 'UTC') return false;
  // The canonical list is cheap to read; a DateTimeFormat (its first one costs ~25 ms of CPU)
  // is only built for other names, such as links like Asia/Calcutta.
  canonicalTimeZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (canonicalTimeZones.has(name)) return true;
  let known = timeZoneAnswers.get(name);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      known = true;
    } catch {
      known = false;
    }
    timeZoneAnswers.set(name, known);
  }
  return known;
}

export type RawFleetConfig = z.input<typeof fleetConfigSchema>;
export type ParsedFleetConfig = z.output<typeof fleetConfigSchema>;
export type ParsedFleet = ParsedFleetConfig['fleets'][number];
export { WEEKDAYS };
