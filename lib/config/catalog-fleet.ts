/**
 * The fleet a catalog product launches, as a {@link FleetSpec}: the same spec a `fleets:` entry
 * becomes, so the product stack builds the same RunnerFleet construct, and the cost shown in a
 * product's description is the cost model's estimate of exactly that fleet. Pure.
 */
import {
  CONCURRENCY_BY_SIZE,
  FORM_DEFAULTS,
  productInstanceTypes,
  WORKING_DAYS_CHOICES,
  type CatalogProductDefinition,
  type FleetSize,
} from './catalog-products';
import { defaultRunnerTokenSecretName, type FleetScheduleSpec, type FleetSpec } from './fleet-config';
import { jitterMinutes, parseDays, type Weekday } from './schedule';
import { DEFAULT_MAX_JITTER_MINUTES, DEFAULT_MAX_JOB_TIMEOUT_MINUTES, DEFAULT_RUNNER_VERSION } from './schema';

/** Job image, disk and update settings every product uses (the `fleets:` defaults). */
export const PRODUCT_FLEET_DEFAULTS = {
  executor: 'docker',
  dockerImage: 'public.ecr.aws/docker/library/alpine:3.20',
  volumeSizeGiB: 40,
  maxJobTimeoutMinutes: DEFAULT_MAX_JOB_TIMEOUT_MINUTES,
  minHealthyPercentage: 50,
} as const;

/** What the form (or a test, or the cost text) decides; values may be CloudFormation tokens in a product stack. */
export interface ProductFleetValues {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly concurrency: number;
  readonly maxInstances: number;
  readonly workingHoursInstances: number;
  /** On-demand instances under the spot capacity; only products with an on-demand floor use it. */
  readonly onDemandFloor: number;
  readonly runnerTokenSecretName: string;
}

/** The fleet of a product. Off-hours capacity is 0: every product scales to zero outside working hours. */
export function productFleetSpec(product: CatalogProductDefinition, values: ProductFleetValues, schedule?: FleetScheduleSpec): FleetSpec {
  return {
    name: values.name,
    computeType: product.computeType,
    architecture: product.architecture,
    instanceTypes: values.instanceTypes,
    concurrency: values.concurrency,
    capacity: { min: 0, max: values.maxInstances, desired: values.workingHoursInstances },
    onDemandBase: product.onDemandFloor ? values.onDemandFloor : 0,
    executor: PRODUCT_FLEET_DEFAULTS.executor,
    dockerImage: PRODUCT_FLEET_DEFAULTS.dockerImage,
    runnerTags: [...product.runnerTags],
    volumeSizeGiB: PRODUCT_FLEET_DEFAULTS.volumeSizeGiB,
    runnerTokenSecretName: values.runnerTokenSecretName,
    maxJobTimeoutMinutes: PRODUCT_FLEET_DEFAULTS.maxJobTimeoutMinutes,
    runnerVersion: DEFAULT_RUNNER_VERSION,
    minHealthyPercentage: PRODUCT_FLEET_DEFAULTS.minHealthyPercentage,
    schedule,
  };
}

/** Form values with literal numbers and strings, as a person fills them in. */
export interface ProductFormValues {
  readonly fleetName: string;
  readonly size: FleetSize;
  readonly maxInstances: number;
  readonly workingHoursInstances: number;
  readonly onDemandFloor: number;
  readonly timeZone: string;
  /** A key of {@link WORKING_DAYS_CHOICES}. */
  readonly workingDays: string;
  readonly workStartHour: number;
  readonly workEndHour: number;
}

/** The form's defaults for a fleet name. */
export function defaultFormValues(fleetName = 'my-team'): ProductFormValues {
  return { fleetName, ...FORM_DEFAULTS };
}

/**
 * The literal fleet a filled-in form stands for, schedule included: what a `fleets:` entry with
 * the same values would be. `jitter` is the product's fixed jitter (see the product stack).
 */
export function productFleetFromForm(product: CatalogProductDefinition, form: ProductFormValues, jitter: number): FleetSpec {
  const hh = (hour: number) => `${String(hour).padStart(2, '0')}:00`;
  const schedule: FleetScheduleSpec = {
    timeZone: form.timeZone,
    maxJitterMinutes: Math.max(jitter, 0),
    jitterMinutes: jitter,
    windows: [
      {
        days: parseDays(WORKING_DAYS_CHOICES[form.workingDays].days) as Weekday[],
        start: hh(form.workStartHour),
        end: hh(form.workEndHour),
        desired: form.workingHoursInstances,
      },
    ],
  };
  return productFleetSpec(
    product,
    {
      name: form.fleetName,
      instanceTypes: productInstanceTypes(product, form.size),
      concurrency: CONCURRENCY_BY_SIZE[form.size],
      maxInstances: form.maxInstances,
      workingHoursInstances: form.workingHoursInstances,
      onDemandFloor: form.onDemandFloor,
      runnerTokenSecretName: defaultRunnerTokenSecretName(form.fleetName),
    },
    schedule,
  );
}

/**
 * The fixed jitter of a product's scheduled actions. A product's schedule is built from
 * parameters, so the jitter cannot come from the fleet name as in `fleets:`; it comes from the
 * product id instead: off the round minute, and different between products.
 */
export function productJitterMinutes(productId: string): number {
  return jitterMinutes(`catalog:${productId}`, DEFAULT_MAX_JITTER_MINUTES);
}
