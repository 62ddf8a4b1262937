/** Saturation thresholds of WVA's `wva-saturation-scaling-config`, with our built-in defaults. */
export interface SaturationThresholds {
  /** A replica is saturated when its KV-cache use is at or above this (0..1). */
  readonly kvCacheThreshold: number;
  /** A replica is saturated when its waiting queue is at or above this (>= 0). */
  readonly queueLengthThreshold: number;
  /** Scale up when the average spare KV (threshold - use) falls below this (0..1). */
  readonly kvSpareTrigger: number;
  /** Scale up when the average spare queue (threshold - waiting) falls below this (>= 0). */
  readonly queueSpareTrigger: number;
}

export type SaturationOverrides = Partial<SaturationThresholds>;

/** WVA ships none and scales up forever on an empty config; these apply where a field is missing. */
export const DEFAULT_SATURATION: SaturationThresholds = Object.freeze({
  kvCacheThreshold: 0.8,
  queueLengthThreshold: 5,
  kvSpareTrigger: 0.1,
  queueSpareTrigger: 3,
});

export interface ScaleToZeroConfig {
  readonly enabled: boolean;
  /** No request over this window (ms) is required before going to zero. */
  readonly retentionMs: number;
}
