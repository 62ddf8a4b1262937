export * from './types.js';
export { VllmFleet } from './fleet.js';
export { FleetStats } from './stats.js';
export { WaitHistogram } from './wait-histogram.js';
export { formatValue } from './exposition.js';
