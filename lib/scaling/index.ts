/** Demand scaling inside the schedule: the envelope, the decision and a simulation. Pure. */
export * from './decide';
export * from './envelope';
export * from './simulate';
export * from './fleet';
export * from './scheduled-sizes';
