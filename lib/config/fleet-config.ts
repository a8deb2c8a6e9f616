/**
 * The validated, normalized fleet configuration that the rest of the app consumes.
 * Defaults are resolved here, once, so constructs, the cost model and the CLI agree.
 */
import { defaultOnDemandRunnerTokenSecretName, defaultRunnerTokenSecretName } from '../identity/deployment';
import type { CatalogProductId, FleetSize } from './catalog-products';
import type { Architecture } from './instance-types';
import { rotationSlots, type RotationSlot } from './token-rotation';
import {
  capacityProfile,
  groupCapacityPlan,
  jitterMinutes,
  MINUTES_PER_WEEK,
  neverRuns,
  parseDays,
  type CapacitySegment,
  type GroupCapacityPlan,
  type UptimeWindow,
  type Weekday,
} from './schedule';
import {
  DEFAULT_BASELINE_INSTANCE_TYPE,
  DEFAULT_GRAVITON_PERFORMANCE_FACTOR,
  DEFAULT_SPOT_FALLBACK_AFTER_MINUTES,
  DEFAULT_SPOT_FALLBACK_RETURN_AFTER_MINUTES,
  pinnedRunnerSha256,
  type ParsedFleet,
  type ParsedFleetConfig,
} from './schema';

export type ComputeType = 'spot' | 'on-demand';
export type Executor = 'docker' | 'shell';

export interface GitLabSettings {
  readonly url: string;
  /** Existing IAM OIDC provider for this GitLab, trusted by the deploy roles instead of a new one. */
  readonly oidcProviderArn?: string;
  readonly caCertificate?: string;
  readonly registryMirror?: string;
  readonly runnerDownloadUrl?: string;
}

export interface OrphanReaperSettings {
  readonly enabled: boolean;
  readonly apiTokenSecretName: string;
  readonly intervalMinutes: number;
  readonly graceMinutes: number;
}

export interface FleetScheduleSpec {
  readonly timeZone: string;
  readonly windows: readonly UptimeWindow[];
  readonly maxJitterMinutes: number;
  /** The fleet's fixed jitter, derived from its name. */
  readonly jitterMinutes: number;
}

export type RunnerScope = 'instance' | 'group' | 'project';
export type RunnerAccessLevel = 'not_protected' | 'ref_protected';

/** A GitLab runner object the fleet creates and owns (see the `gitlabRunner` config key). */
export interface ManagedRunnerSpec {
  readonly scope: RunnerScope;
  /** Group or project id or full path; absent for scope instance. */
  readonly namespace?: number | string;
  /** Secret holding an access token with create_runner and manage_runner. */
  readonly accessTokenSecretName: string;
  readonly runUntagged: boolean;
  readonly locked: boolean;
  readonly accessLevel: RunnerAccessLevel;
  readonly paused: boolean;
  /**
   * Scheduled token rotation (config `gitlabRunner.rotation`).
   * @default - none: tokens rotate only by `runner-fleet rotate-token`
   */
  readonly rotation?: TokenRotationSpec;
}

/** A fleet's scheduled token rotation, its start instant resolved (lib/config/token-rotation.ts). */
export interface TokenRotationSpec {
  /** False: the schedule exists but is disabled. */
  readonly enabled: boolean;
  readonly everyMonths: number;
  /** IANA time zone the slot is read in. */
  readonly timeZone: string;
  /** `HH:MM-HH:MM`, local. */
  readonly window: string;
  /** The start instant, derived from the fleet name and distinct from the config's other fleets'. */
  readonly slot: RotationSlot;
}

export interface FleetCapacity {
  readonly min: number;
  readonly max: number;
  readonly desired: number;
}

export interface FleetNetwork {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly availabilityZones?: readonly string[];
}

/** Spot-to-on-demand fallback of a spot fleet. */
export interface SpotFallbackSettings {
  readonly enabled: boolean;
  /** Minutes short of spot capacity before on-demand takes over. */
  readonly afterMinutes: number;
  /** Minutes without a capacity error, in fallback, before returning to spot. */
  readonly returnAfterMinutes: number;
}

/** Demand scaling of one fleet, defaults resolved. */
export interface DemandScalingSpec {
  /** Share of slots kept busy in working hours, 10-100. */
  readonly targetBusyPercent: number;
  readonly scaleFromZero: boolean;
  readonly warmInstances: number;
  readonly scaleInIdleMinutes: number;
}

/** Reading GitLab's pending jobs, for the demand scaler. */
export interface PollSettings {
  readonly apiTokenSecretName: string;
  /** Projects polled on each tick; empty: the instance-wide jobs API (administrator token). */
  readonly projectIds: readonly number[];
  /** Poll on every tick; false: only the projects of job events that name no tags. */
  readonly onTick: boolean;
}

/** The webhook and scaler shared by demand-scaled fleets. */
export interface DemandSettings {
  readonly webhookSecretName: string;
  readonly scalerIntervalMinutes: number;
  /** The poll fallback, when configured. */
  readonly poll?: PollSettings;
}

/** Dashboard and alarms of a deployment. */
export interface MonitoringSettings {
  readonly dashboard: boolean;
  readonly alarms: boolean;
  readonly alarmEmail?: string;
  readonly alarmTopicArn?: string;
}

export const DEFAULT_DEMAND_SETTINGS: DemandSettings = { webhookSecretName: 'gitlab-runner-fleet/webhook-token', scalerIntervalMinutes: 1 };
export const DEFAULT_MONITORING_SETTINGS: MonitoringSettings = { dashboard: true, alarms: true };

/** One fleet, every default resolved. */
export interface FleetSpec {
  readonly name: string;
  readonly computeType: ComputeType;
  readonly architecture: Architecture;
  readonly instanceTypes: readonly string[];
  readonly concurrency: number;
  readonly capacity: FleetCapacity;
  readonly onDemandBase: number;
  readonly executor: Executor;
  readonly dockerImage: string;
  /** All GitLab runner tags the runner should carry: computetype-*, the architecture, extras. */
  readonly runnerTags: readonly string[];
  readonly volumeSizeGiB: number;
  readonly network?: FleetNetwork;
  readonly runnerTokenSecretName: string;
  /**
   * Mixed fleets (spot with onDemandBase): the token secret of the on-demand instances, whose
   * runner is tagged computetype-ondemand. Undefined: every instance uses runnerTokenSecretName.
   */
  readonly onDemandRunnerTokenSecretName?: string;
  /** Set when the fleet creates and owns its GitLab runner(s). */
  readonly managedRunner?: ManagedRunnerSpec;
  readonly maxJobTimeoutMinutes: number;
  readonly runnerVersion: string;
  /**
   * SHA-256 the runner binary must have (the fleet's `runnerSha256`, else the repository's pin for
   * the version and architecture). Undefined: checked against the release's own release.sha256.
   */
  readonly runnerSha256?: string;
  readonly minHealthyPercentage: number;
  readonly schedule?: FleetScheduleSpec;
  /**
   * Spot fleets: on-demand covers for spot while spot capacity is gone.
   * @default - on for spot fleets (see {@link spotFallbackOf}), off for on-demand fleets
   */
  readonly spotFallback?: SpotFallbackSettings;
  /**
   * The config's `deployment` name: prefixes the group and default secret names (lib/identity/deployment.ts).
   * Undefined in configs without one, whose names are unprefixed.
   */
  readonly deployment?: string;
  /** Present when demand scaling is on. */
  readonly demandScaling?: DemandScalingSpec;
}

/** The fleet's fallback settings with defaults resolved; disabled for on-demand fleets. */
export function spotFallbackOf(fleet: Pick<FleetSpec, 'computeType' | 'spotFallback'>): SpotFallbackSettings {
  return {
    enabled: fleet.computeType === 'spot' && (fleet.spotFallback?.enabled ?? true),
    afterMinutes: fleet.spotFallback?.afterMinutes ?? DEFAULT_SPOT_FALLBACK_AFTER_MINUTES,
    returnAfterMinutes: fleet.spotFallback?.returnAfterMinutes ?? DEFAULT_SPOT_FALLBACK_RETURN_AFTER_MINUTES,
  };
}

/** Settings of the cost estimate (`runner-fleet cost`), defaults resolved. */
export interface CostSettings {
  /** Region priced when the command line names none. */
  readonly region?: string;
  readonly baselineInstanceType: string;
  readonly gravitonPerformanceFactor: number;
  /** USD per hour by instance type. */
  readonly prices: Readonly<Record<string, { readonly onDemand?: number; readonly spot?: number }>>;
}

/** Limits of one catalog product. */
export interface CatalogProductSettings {
  readonly allowedSizes: readonly FleetSize[];
  readonly maxInstances: number;
}

/** The Service Catalog portfolio, defaults resolved. */
export interface CatalogSettings {
  readonly portfolioName: string;
  readonly assetBucketName: string;
  readonly owner: string;
  readonly supportEmail?: string;
  readonly principals: { readonly roleArns: readonly string[]; readonly roleNamePatterns: readonly string[] };
  readonly sharing: { readonly accounts: readonly string[]; readonly organizationalUnits: readonly string[] };
  /** Tag key -> allowed values. */
  readonly tagOptions: Readonly<Record<string, readonly string[]>>;
  /** The offered products, in catalog order. */
  readonly products: Readonly<Partial<Record<CatalogProductId, CatalogProductSettings>>>;
}

/** One IAM statement a deploy role grants. */
export interface DeployRoleStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** A role CD jobs assume with a GitLab OIDC ID token (see lib/identity/gitlab-oidc.ts). */
export interface DeployRoleSpec {
  readonly name: string;
  /** Project path, or `group/*` for every project of a group. */
  readonly projectPath: string;
  readonly refType: 'branch' | 'tag';
  readonly refs: readonly string[];
  readonly protectedRefsOnly: boolean;
  readonly environment?: string;
  readonly managedPolicyArns: readonly string[];
  readonly inlineStatements: readonly DeployRoleStatement[];
  /** Fleets the deploy job is routed to; empty: any runner. */
  readonly fleets: readonly string[];
  readonly maxSessionDurationMinutes: number;
}

export interface FleetConfig {
  /** Scopes names and the shared stack's grants to this deployment (lib/identity/deployment.ts). */
  readonly deployment?: string;
  readonly gitlab: GitLabSettings;
  readonly orphanReaper: OrphanReaperSettings;
  readonly awsTags: Readonly<Record<string, string>>;
  readonly fleets: readonly FleetSpec[];
  /**
   * Roles for CD jobs (GitLab OIDC). Always set by {@link normalizeFleetConfig}; optional so hand-built configs need not carry it.
   */
  readonly deployRoles?: readonly DeployRoleSpec[];
  /** Always set by {@link normalizeFleetConfig}; optional so hand-built configs need not carry it. */
  readonly cost?: CostSettings;
  /** Always set by {@link normalizeFleetConfig}. @default DEFAULT_DEMAND_SETTINGS */
  readonly demand?: DemandSettings;
  /** Always set by {@link normalizeFleetConfig}. @default DEFAULT_MONITORING_SETTINGS */
  readonly monitoring?: MonitoringSettings;
  /** Present when the config has a `catalog:` section. */
  readonly catalog?: CatalogSettings;
}

/** The GitLab runner tag that routes jobs by compute type, as the GitLab blog's 97% example names them. */
export function computeTypeTag(computeType: ComputeType): 'computetype-spot' | 'computetype-ondemand' {
  return computeType === 'spot' ? 'computetype-spot' : 'computetype-ondemand';
}

export { defaultOnDemandRunnerTokenSecretName, defaultRunnerTokenSecretName };

/** One GitLab runner object of a fleet: which instances use it, its tags and its token secret. */
export interface FleetRunnerObject {
  /** The compute type of the instances registering with it. */
  readonly computeType: ComputeType;
  readonly tokenSecretName: string;
  /**
   * The tags a fleet-created runner carries: its computetype-*, the architecture, the executor
   * (so pipelines can ask for docker or shell), the extra tags.
   */
  readonly tags: readonly string[];
}

/**
 * The runner objects of a fleet: one, or for a spot fleet with an on-demand floor and a second
 * secret, one per compute type, so a job tagged computetype-ondemand never lands on spot.
 */
export function fleetRunnerObjects(fleet: FleetSpec): FleetRunnerObject[] {
  const extras = fleet.runnerTags.filter((tag) => !tag.startsWith('computetype-'));
  const objectFor = (computeType: ComputeType, tokenSecretName: string): FleetRunnerObject => ({
    computeType,
    tokenSecretName,
    tags: [...new Set([computeTypeTag(computeType), fleet.architecture, fleet.executor, ...extras])],
  });
  const objects = [objectFor(fleet.computeType, fleet.runnerTokenSecretName)];
  if (fleet.onDemandRunnerTokenSecretName) objects.push(objectFor('on-demand', fleet.onDemandRunnerTokenSecretName));
  return objects;
}

/** The fleet's desired capacity over a local week (constant when it has no schedule). */
export function fleetCapacityProfile(fleet: FleetSpec): CapacitySegment[] {
  if (!fleet.schedule) return [{ fromMinute: 0, toMinute: MINUTES_PER_WEEK, desired: fleet.capacity.desired }];
  return capacityProfile({ windows: fleet.schedule.windows, minCapacity: fleet.capacity.min, jitterMinutes: fleet.schedule.jitterMinutes });
}

/**
 * The Auto Scaling group sizes and scheduled changes that make the fleet's group run what
 * {@link fleetCapacityProfile} (and so the cost estimate) says, at every minute of the week.
 */
export function fleetGroupCapacity(fleet: FleetSpec): GroupCapacityPlan {
  if (!fleet.schedule) return { minSize: fleet.capacity.min, desiredCapacity: fleet.capacity.desired, changes: [] };
  return groupCapacityPlan(fleetCapacityProfile(fleet));
}

/**
 * The warning for a fleet that can never have an instance (capacity 0 at every minute of the
 * week), shared by synth and `runner-fleet cost`; undefined for a fleet that runs. Such a fleet
 * is valid, so a team can park one on purpose.
 */
export function neverRunsWarning(fleet: FleetSpec): string | undefined {
  if (!neverRuns(fleetCapacityProfile(fleet))) return undefined;
  const where = fleet.schedule ? "capacity.min and every schedule window's desired are 0" : 'capacity.desired is 0 and it has no schedule';
  return (
    `fleet ${fleet.name} can never have an instance: ${where}. ` +
    'That parks it (no runner, no cost); to run jobs, give capacity.desired or a window a desired above 0.'
  );
}

/** The time zone a fleet's rotation window is read in: its own, the fleet schedule's, else UTC. */
function rotationTimeZone(fleet: ParsedFleet): string {
  return fleet.gitlabRunner?.rotation?.timeZone ?? fleet.schedule?.timeZone ?? 'UTC';
}

/** The start instant of every scheduled token rotation, spread over the config's fleets. */
function rotationSlotsOf(fleets: readonly ParsedFleet[]): Map<string, RotationSlot> {
  return rotationSlots(
    fleets.flatMap((fleet) => {
      const rotation = fleet.gitlabRunner?.rotation;
      return rotation
        ? [{ fleetName: fleet.name, everyMonths: rotation.everyMonths, timeZone: rotationTimeZone(fleet), window: rotation.window }]
        : [];
    }),
  );
}

/** Resolves defaults on a schema-validated config. */
export function normalizeFleetConfig(parsed: ParsedFleetConfig): FleetConfig {
  const rotationSlots = rotationSlotsOf(parsed.fleets);
  return {
    ...(parsed.deployment === undefined ? {} : { deployment: parsed.deployment }),
    gitlab: parsed.gitlab,
    orphanReaper: parsed.orphanReaper,
    awsTags: parsed.awsTags,
    fleets: parsed.fleets.map((fleet) => normalizeFleet(fleet, parsed.deployment, rotationSlots)),
    demand: parsed.demand ?? DEFAULT_DEMAND_SETTINGS,
    monitoring: parsed.monitoring ?? DEFAULT_MONITORING_SETTINGS,
    deployRoles: parsed.deployRoles,
    cost: {
      region: parsed.cost?.region,
      baselineInstanceType: parsed.cost?.baselineInstanceType ?? DEFAULT_BASELINE_INSTANCE_TYPE,
      gravitonPerformanceFactor: parsed.cost?.gravitonPerformanceFactor ?? DEFAULT_GRAVITON_PERFORMANCE_FACTOR,
      prices: parsed.cost?.prices ?? {},
    },
    ...(parsed.catalog ? { catalog: normalizeCatalog(parsed.catalog) } : {}),
  };
}

function normalizeCatalog(catalog: NonNullable<ParsedFleetConfig['catalog']>): CatalogSettings {
  const products: Partial<Record<CatalogProductId, CatalogProductSettings>> = {};
  for (const [id, settings] of Object.entries(catalog.products) as Array<[CatalogProductId, CatalogProductSettings | undefined]>) {
    if (settings) products[id] = { allowedSizes: [...new Set(settings.allowedSizes)], maxInstances: settings.maxInstances };
  }
  return {
    portfolioName: catalog.portfolioName,
    assetBucketName: catalog.assetBucketName,
    owner: catalog.owner,
    supportEmail: catalog.supportEmail,
    principals: catalog.principals,
    sharing: { accounts: catalog.sharing?.accounts ?? [], organizationalUnits: catalog.sharing?.organizationalUnits ?? [] },
    tagOptions: catalog.tagOptions,
    products,
  };
}

function normalizeFleet(fleet: ParsedFleet, deployment: string | undefined, rotationSlots: ReadonlyMap<string, RotationSlot>): FleetSpec {
  const runnerTags = [computeTypeTag(fleet.computeType), fleet.architecture, ...fleet.runnerTags];
  const managed = fleet.gitlabRunner;
  const mixed = fleet.computeType === 'spot' && fleet.onDemandBase > 0;
  const rotationSlot = rotationSlots.get(fleet.name);
  return {
    name: fleet.name,
    computeType: fleet.computeType,
    architecture: fleet.architecture,
    instanceTypes: fleet.instanceTypes,
    concurrency: fleet.concurrency,
    capacity: fleet.capacity,
    onDemandBase: fleet.onDemandBase,
    executor: fleet.executor,
    dockerImage: fleet.dockerImage,
    runnerTags: [...new Set(runnerTags)],
    volumeSizeGiB: fleet.volumeSizeGiB,
    network: fleet.network,
    runnerTokenSecretName: fleet.runnerTokenSecretName ?? defaultRunnerTokenSecretName(fleet.name, deployment),
    onDemandRunnerTokenSecretName:
      fleet.onDemandRunnerTokenSecretName ?? (managed && mixed ? defaultOnDemandRunnerTokenSecretName(fleet.name, deployment) : undefined),
    managedRunner: managed && {
      scope: managed.scope,
      namespace: managed.scope === 'group' ? managed.group : managed.scope === 'project' ? managed.project : undefined,
      accessTokenSecretName: managed.accessTokenSecretName,
      runUntagged: managed.runUntagged,
      locked: managed.locked ?? managed.scope === 'project',
      accessLevel: managed.accessLevel,
      paused: managed.paused,
      ...(managed.rotation && rotationSlot
        ? {
            rotation: {
              enabled: managed.rotation.enabled,
              everyMonths: managed.rotation.everyMonths,
              timeZone: rotationTimeZone(fleet),
              window: managed.rotation.window,
              slot: rotationSlot,
            },
          }
        : {}),
    },
    maxJobTimeoutMinutes: fleet.maxJobTimeoutMinutes,
    runnerVersion: fleet.runnerVersion,
    runnerSha256: fleet.runnerSha256 ?? pinnedRunnerSha256(fleet.runnerVersion, fleet.architecture),
    minHealthyPercentage: fleet.minHealthyPercentage,
    spotFallback: spotFallbackOf({
      computeType: fleet.computeType,
      spotFallback: fleet.spotFallback && { ...fleet.spotFallback, enabled: fleet.spotFallback.enabled ?? true },
    }),
    schedule: fleet.schedule && {
      timeZone: fleet.schedule.timeZone,
      maxJitterMinutes: fleet.schedule.maxJitterMinutes,
      jitterMinutes: jitterMinutes(fleet.name, fleet.schedule.maxJitterMinutes),
      windows: fleet.schedule.windows.map((w) => ({
        days: parseDays(w.days) as Weekday[],
        start: w.start,
        end: w.end,
        desired: w.desired ?? fleet.capacity.desired,
      })),
    },
    ...(deployment === undefined ? {} : { deployment }),
    demandScaling:
      fleet.demandScaling?.enabled === true
        ? {
            targetBusyPercent: fleet.demandScaling.targetBusyPercent,
            scaleFromZero: fleet.demandScaling.scaleFromZero ?? fleet.computeType === 'spot',
            warmInstances: fleet.demandScaling.warmInstances,
            scaleInIdleMinutes: fleet.demandScaling.scaleInIdleMinutes,
          }
        : undefined,
  };
}
