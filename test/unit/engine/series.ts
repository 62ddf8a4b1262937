/** Runs decideModel over a series of cycles, carrying previous decisions and state as the Engine does. */
import type { Decision } from '../../../src/domain/decision.js';
import { DEFAULT_ENGINE_FEATURES, type EngineFeatures } from '../../../src/domain/engine-features.js';
import type { ModelMetrics } from '../../../src/domain/metrics.js';
import { EMPTY_SATURATION_CONFIG } from '../../../src/config/saturation-config.js';
import { decideModel, type ModelOutcome } from '../../../src/engine/model-decision.js';
import type { ModelState } from '../../../src/engine/model-state.js';
import type { VariantState } from '../../../src/engine/saturation-analyzer.js';
import { MODEL, NS } from './fixtures.js';

export interface Cycle {
  /** Epoch ms. */
  readonly at: number;
  readonly states: readonly VariantState[];
  readonly metrics: ModelMetrics;
}

export function runSeries(
  cycles: readonly Cycle[],
  features: EngineFeatures = DEFAULT_ENGINE_FEATURES,
  maxScaleUpRate = 2,
): ModelOutcome[] {
  let previous = new Map<string, Decision>();
  let state: ModelState | undefined;
  const out: ModelOutcome[] = [];
  for (const c of cycles) {
    const o = decideModel({
      namespace: NS,
      modelID: MODEL,
      variants: c.states,
      metrics: c.metrics,
      config: {
        saturation: EMPTY_SATURATION_CONFIG,
        scaleToZero: { enabled: false, retentionMs: 600_000 },
        maxScaleUpRate,
        features,
      },
      previous,
      now: c.at,
      state,
    });
    if (o.decisions.length > 0) previous = new Map(o.decisions.map((d) => [d.variantKey, d]));
    state = o.state;
    out.push(o);
  }
  return out;
}

/** The sum of desired replicas of an outcome. */
export const desiredTotal = (o: ModelOutcome): number => o.decisions.reduce((n, d) => n + d.desiredReplicas, 0);

/** "code: text" of every reason note, for assertion messages. */
export const reasonsOf = (o: ModelOutcome): string =>
  o.targets.notes
    .filter((n) => n.kind === 'reason')
    .map((n) => `${n.code}: ${n.text}`)
    .join(' | ');
