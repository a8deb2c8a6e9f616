export * from './catalog-fleet';
export * from './catalog-products';
export * from './errors';
export * from './fleet-config';
export * from './instance-types';
export * from './load';
export * from './schedule';
export { crossFieldProblems, DEFAULT_RUNNER_VERSION, fleetConfigSchema, isTimeZone, type RawFleetConfig } from './schema';
