/**
 * The engine's switchable behaviours beyond DESIGN's seven steps (issue 20), each on by default and
 * each off by a setting, so a bench can show which change moved which figure.
 */
export interface EngineFeatures {
  /**
   * No scale-up from 1-minute peaks alone once the load has fallen: a scale-up needs saturation
   * now (the latest KV and queue samples) or arrivals that have not fallen (WVA_PEAK_GUARD).
   */
  readonly peakGuard: boolean;
  /**
   * Size for the load one pod start-up ahead, from the trend of the model's arrivals: adds
   * capacity early, never removes it early (WVA_LOOKAHEAD).
   */
  readonly lookahead: boolean;
  /** A variant's pod start-up before one is learned from pending -> ready (ms; WVA_STARTUP_SECONDS). */
  readonly startupMs: number;
  /** The most a forecast may add, as a fraction of current replicas (WVA_LOOKAHEAD_MAX_FRACTION). */
  readonly lookaheadMaxFraction: number;
  /**
   * Demand and capacity in KV tokens where `vllm:cache_config_info` is there, and the per-replica
   * completion rate learned online per variant (WVA_TOKEN_CAPACITY).
   */
  readonly tokenCapacity: boolean;
}

export const DEFAULT_ENGINE_FEATURES: EngineFeatures = Object.freeze({
  peakGuard: true,
  lookahead: true,
  startupMs: 60_000,
  lookaheadMaxFraction: 0.5,
  tokenCapacity: true,
});

/** Every feature off: the engine as it decided before issue 20. */
export const NO_ENGINE_FEATURES: EngineFeatures = Object.freeze({
  ...DEFAULT_ENGINE_FEATURES,
  peakGuard: false,
  lookahead: false,
  tokenCapacity: false,
});
