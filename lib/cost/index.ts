/**
 * The cost model: prices, the estimate, and its reports. Pure; the live price source
 * (live-prices.ts) talks to AWS and is deliberately not exported here, so importing this
 * module never loads the AWS SDK.
 */
export * from './errors';
export * from './estimate';
export * from './price-book';
export * from './price-snapshot';
export * from './report-json';
export * from './report-text';
export * from './week-hours';
export * from './hourly';
export * from './demand';
export * from './product-cost';
