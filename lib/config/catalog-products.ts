/**
 * The easy-button products of the Service Catalog portfolio: what each one is, and how its few
 * form fields map onto a fleet. Pure (no CDK, no AWS SDK), so the config validation, the cost
 * text in the product descriptions and the docs generator share one definition.
 */
import type { Architecture } from './instance-types';
import type { ComputeType } from './fleet-config';

export const CATALOG_PRODUCT_IDS = ['graviton-spot', 'graviton-on-demand', 'graviton-spot-floor', 'x86-on-demand'] as const;
export type CatalogProductId = (typeof CATALOG_PRODUCT_IDS)[number];

export const FLEET_SIZES = ['small', 'medium', 'large'] as const;
export type FleetSize = (typeof FLEET_SIZES)[number];

/** Highest "maximum instances" any product offers; each product may offer less (catalog.products.<id>.maxInstances). */
export const CATALOG_MAX_INSTANCES_LIMIT = 50;

/**
 * Instance types per size, three of one size class across families each: more pools for spot,
 * a fallback for on-demand capacity shortages. Sizes match across architectures (small = 2 vCPUs).
 */
export const INSTANCE_TYPES_BY_SIZE: Readonly<Record<Architecture, Readonly<Record<FleetSize, readonly [string, string, string]>>>> = {
  arm64: {
    small: ['m7g.large', 'm6g.large', 'c7g.large'],
    medium: ['m7g.xlarge', 'm6g.xlarge', 'c7g.xlarge'],
    large: ['m7g.2xlarge', 'm6g.2xlarge', 'c7g.2xlarge'],
  },
  x86_64: {
    small: ['m7i.large', 'm6i.large', 'm5.large'],
    medium: ['m7i.xlarge', 'm6i.xlarge', 'm5.xlarge'],
    large: ['m7i.2xlarge', 'm6i.2xlarge', 'm5.2xlarge'],
  },
};

/** Jobs one instance runs at once, by size: one per vCPU of the size's instance types. */
export const CONCURRENCY_BY_SIZE: Readonly<Record<FleetSize, number>> = { small: 2, medium: 4, large: 8 };

/** Working-days choices of the form, as shown, with the days they stand for (cron day-of-week, 0 = Sunday). */
export const WORKING_DAYS_CHOICES: Readonly<Record<string, { readonly days: string; readonly cron: string }>> = {
  'mon-fri': { days: 'mon-fri', cron: '1-5' },
  'mon-sat': { days: 'mon-sat', cron: '1-6' },
  'sun-thu': { days: 'sun,mon-thu', cron: '0-4' },
  daily: { days: 'daily', cron: '*' },
};

/** Whole hours a working day may start at; the end is later on the same day (a template rule checks it). */
export const WORK_START_HOURS = Array.from({ length: 22 }, (_v, i) => i + 1); // 01..22
export const WORK_END_HOURS = Array.from({ length: 22 }, (_v, i) => i + 2); // 02..23

export interface CatalogProductDefinition {
  readonly id: CatalogProductId;
  /** Product name in the console. */
  readonly name: string;
  /** One sentence: when to pick it. */
  readonly summary: string;
  readonly computeType: ComputeType;
  readonly architecture: Architecture;
  /** Spot products with an on-demand floor ask for the floor size. */
  readonly onDemandFloor: boolean;
  /** GitLab runner tags jobs use to pick this fleet. */
  readonly runnerTags: readonly string[];
}

export const CATALOG_PRODUCTS: Readonly<Record<CatalogProductId, CatalogProductDefinition>> = {
  'graviton-spot': {
    id: 'graviton-spot',
    name: 'GitLab runners: Graviton spot, zero off-hours',
    summary:
      'The default choice: Graviton spot instances during working hours, none at night and at weekends. For jobs that may be retried.',
    computeType: 'spot',
    architecture: 'arm64',
    onDemandFloor: false,
    runnerTags: ['computetype-spot', 'arm64'],
  },
  'graviton-on-demand': {
    id: 'graviton-on-demand',
    name: 'GitLab runners: Graviton on-demand',
    summary: 'Graviton on-demand instances for jobs that must not be interrupted (deployments, long migrations).',
    computeType: 'on-demand',
    architecture: 'arm64',
    onDemandFloor: false,
    runnerTags: ['computetype-ondemand', 'arm64'],
  },
  'graviton-spot-floor': {
    id: 'graviton-spot-floor',
    name: 'GitLab runners: Graviton spot with an on-demand floor',
    summary:
      'Graviton spot capacity above a few on-demand instances that stay up through working hours, so some runners survive a spot reclaim.',
    computeType: 'spot',
    architecture: 'arm64',
    onDemandFloor: true,
    runnerTags: ['computetype-spot', 'arm64'],
  },
  'x86-on-demand': {
    id: 'x86-on-demand',
    name: 'GitLab runners: x86 on-demand',
    summary: 'x86_64 on-demand instances, for job images that have no arm64 build.',
    computeType: 'on-demand',
    architecture: 'x86_64',
    onDemandFloor: false,
    runnerTags: ['computetype-ondemand', 'x86_64'],
  },
};

/** The defaults a product's form starts with (and the cost in its description is computed for). */
export const FORM_DEFAULTS = {
  size: 'small' as FleetSize,
  maxInstances: 4,
  workingHoursInstances: 2,
  onDemandFloor: 1,
  timeZone: 'UTC',
  workingDays: 'mon-fri',
  workStartHour: 8,
  workEndHour: 18,
} as const;

/** The instance types of a product for a size. */
export function productInstanceTypes(product: CatalogProductDefinition, size: FleetSize): readonly string[] {
  return INSTANCE_TYPES_BY_SIZE[product.architecture][size];
}
