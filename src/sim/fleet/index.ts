export * from './types.js';
export { VllmFleet } from './fleet.js';
export { FleetStats } from './stats.js';
export { WaitHistogram } from './wait-histogram.js';
export { formatValue } from './exposition.js';
export {
  ACCELERATOR_PROFILES,
  KV_BYTES_PER_TOKEN,
  stepTimeMs,
  type AcceleratorProfile,
  type StepTimeParams,
} from './profiles.js';
