/**
 * Latency objectives (SLO mode, issue 22): the knobs a saturation-config entry or a trigger's
 * metadata may give, and the resolved objective of a model. Field names are WVA v0.9's
 * QueueingModelAnalyzer's (llm-d WVA docs/developer-guide/slo-queuemodel.md, "ConfigMap Reference":
 * `targetTTFT`, `targetITL`, in milliseconds); `sloMode` switches a model from saturation sizing to
 * sizing by the learned latency model.
 */

/** What one layer (default entry, per-model entry, trigger metadata) gives; undefined = not given. */
export interface SloOverrides {
  readonly sloMode?: boolean | undefined;
  /** p95 time to first token, ms, > 0. */
  readonly targetTTFT?: number | undefined;
  /** Mean inter-token latency, ms, > 0. */
  readonly targetITL?: number | undefined;
}

/** A model's objective once every layer is merged; a model without one is in saturation mode. */
export interface SloTarget {
  readonly ttftMs: number;
  readonly itlMs: number;
}

/** Layers merged field by field, later ones winning. */
export function mergeSlo(...layers: readonly (SloOverrides | undefined)[]): SloOverrides {
  let sloMode: boolean | undefined;
  let targetTTFT: number | undefined;
  let targetITL: number | undefined;
  for (const l of layers) {
    if (!l) continue;
    sloMode = l.sloMode ?? sloMode;
    targetTTFT = l.targetTTFT ?? targetTTFT;
    targetITL = l.targetITL ?? targetITL;
  }
  return { sloMode, targetTTFT, targetITL };
}

/**
 * The field that keeps a merged layer from being a usable objective when `sloMode` is on (a target
 * missing), or undefined when it is fine (off, or on with both targets).
 */
export function missingSloTarget(s: SloOverrides): 'targetTTFT' | 'targetITL' | undefined {
  if (s.sloMode !== true) return undefined;
  if (s.targetTTFT === undefined) return 'targetTTFT';
  if (s.targetITL === undefined) return 'targetITL';
  return undefined;
}

/** The objective of merged layers: undefined unless `sloMode` is on with both targets. */
export function sloTargetOf(s: SloOverrides): SloTarget | undefined {
  if (s.sloMode !== true || s.targetTTFT === undefined || s.targetITL === undefined) return undefined;
  return { ttftMs: s.targetTTFT, itlMs: s.targetITL };
}

/**
 * What /debug/decisions shows of a variant's learned service model in SLO mode: iteration time
 * (ms) = alpha + beta x tokens computed + gamma x KV tokens read, how many observations taught it,
 * whether it is confident enough to size, and the req/s one replica takes within the targets.
 */
export interface ServiceModelView {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly samples: number;
  readonly confident: boolean;
  /** req/s one replica takes within the model's targets; undefined before it is confident. */
  readonly ratePerReplica: number | undefined;
}
