/**
 * Notes: what each step of DESIGN.md's engine found, as data. A note's `code` is stable (tests and
 * the decision trace assert it); its `text` is for people and may be reworded. A `reason` note
 * becomes one of the decision's reasons (a variant's own when `variantKey` is set); a `trace` note
 * becomes one line of the decision's steps, prefixed with its step number.
 */

/** The step of DESIGN.md's engine a note belongs to (1 saturation ... 7 scale from zero). */
export type DesignStep = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export type NoteCode =
  // Steps 1-2: the analysis.
  | 'saturation'
  | 'spare'
  | 'all-saturated'
  | 'kv-spare-low'
  | 'queue-spare-low'
  | 'spare-ok'
  | 'some-saturated'
  // Step 3: scale up.
  | 'scale-up'
  | 'pending-cover-need'
  | 'backlog-draining'
  | 'rate-adds-none'
  | 'at-max'
  | 'variant-grows'
  // Step 3, where Kubernetes shows the GPUs: placement (placement.ts).
  | 'placement-off'
  | 'placement-unlimited'
  | 'placement-full'
  | 'placement-min'
  | 'placement-spill'
  | 'placement-return'
  | 'gpu-shortfall'
  | 'saturated-now'
  | 'saturated-by-peak'
  | 'peak-only'
  | 'lookahead'
  | 'lookahead-holds'
  | 'lookahead-kv'
  // Step 3-4 in SLO mode (slo/slo-stage.ts): sized by the learned latency model, or why not.
  | 'slo-size'
  | 'slo-fallback'
  | 'slo-model-contradicted'
  // Step 4: scale down.
  | 'scale-down'
  | 'holding-lower'
  | 'load-rose'
  | 'variant-shrinks'
  | 'no-scale-down-pending'
  | 'no-scale-down-gateway'
  | 'no-scale-down-saturated'
  | 'no-scale-down-spare'
  | 'no-scale-down-throughput'
  | 'no-scale-down-service'
  | 'no-scale-down-at-min'
  // Step 5 (and thresholds that would scale up forever): hold.
  | 'no-scale-down-data'
  | 'hold-missing'
  | 'hold-stale'
  | 'hold-thresholds'
  | 'unavailable'
  // Step 6: scale to zero and the floor.
  | 'to-zero-verdict'
  | 'to-zero'
  | 'at-zero'
  | 'zero-disabled'
  | 'floor'
  | 'floor-variant'
  // Step 7: scale from zero.
  | 'waking'
  | 'wake'
  | 'wake-variant'
  | 'wake-no-variant';

export interface Note {
  readonly step: DesignStep;
  readonly code: NoteCode;
  readonly text: string;
  readonly kind: 'reason' | 'trace';
  /** The variant a reason is about; undefined for the model. */
  readonly variantKey: string | undefined;
}

export function reasonNote(step: DesignStep, code: NoteCode, text: string, variantKey?: string): Note {
  return { step, code, text, kind: 'reason', variantKey };
}

export function traceNote(step: DesignStep, code: NoteCode, text: string): Note {
  return { step, code, text, kind: 'trace', variantKey: undefined };
}

/** The model's reasons (not a variant's), in order. */
export function modelReasons(notes: readonly Note[]): string[] {
  const out: string[] = [];
  for (const n of notes) if (n.kind === 'reason' && n.variantKey === undefined) out.push(n.text);
  return out;
}

/** The decision's steps: each trace note as "<step> <text>". */
export function traceLines(notes: readonly Note[]): string[] {
  const out: string[] = [];
  for (const n of notes) if (n.kind === 'trace') out.push(`${n.step} ${n.text}`);
  return out;
}

/** One variant's own reasons, in order. */
export function variantReasons(notes: readonly Note[], variantKey: string): string[] {
  const out: string[] = [];
  for (const n of notes) if (n.kind === 'reason' && n.variantKey === variantKey) out.push(n.text);
  return out;
}
