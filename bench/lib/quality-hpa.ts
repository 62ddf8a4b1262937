/**
 * A pure emulation of the Kubernetes HPA for one scale target fed by external metrics with
 * `AverageValue` semantics, as KEDA sets it up (one metric per trigger of the ScaledObject). Follows
 * the controller's algorithm (pkg/controller/podautoscaler: computeReplicasForMetrics,
 * GetExternalPerPodMetricReplicas, stabilizeRecommendationWithBehaviors,
 * convertDesiredReplicasWithBehaviorRate):
 *  1. Per metric, usageRatio = value / (target x current); within the tolerance its proposal is
 *     `current`, else ceil(value / target). The recommendation is the highest proposal.
 *  2. Stabilization: the recommendation is raised to the lowest of the scale-up window's and lowered
 *     to the highest of the scale-down window's recommendations (current one included).
 *  3. Rate policies: the change per period is limited relative to the replica count at the start of
 *     the period (selectPolicy Max for up, Max = the most permissive for down, as Kubernetes' default).
 *  4. Clamp to [minReplicas, maxReplicas].
 * No clock: `now` comes in, so the bench runs on simulated time.
 */

export interface HpaPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodMs: number;
}

export interface HpaSettings {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** |1 - usageRatio| within this → no change (Kubernetes' default 0.1). */
  readonly tolerance: number;
  readonly scaleUpStabilizationMs: number;
  readonly scaleDownStabilizationMs: number;
  /** Most permissive one applies (selectPolicy: Max). */
  readonly scaleUpPolicies: readonly HpaPolicy[];
  readonly scaleDownPolicies: readonly HpaPolicy[];
}

/** The `behavior` part of the settings: what a recipe's ScaledObject prescribes (min and max stay the scenario's). */
export type HpaBehaviour = Omit<HpaSettings, 'minReplicas' | 'maxReplicas'>;

/**
 * The HPA of WVA's published benchmark (llm-d/llm-d guides/workload-autoscaling/README.wva.md, "Benchmark
 * Results", from llm-d WVA docs/benchmark.md): min 1 / max 10, scale-up window 0 s with 10 pods per 150 s,
 * scale-down window 240 s with 10 pods per 150 s, the default tolerance.
 */
export function wvaBenchmarkHpa(minReplicas = 1, maxReplicas = 10): HpaSettings {
  return {
    minReplicas,
    maxReplicas,
    tolerance: 0.1,
    scaleUpStabilizationMs: 0,
    scaleDownStabilizationMs: 240_000,
    scaleUpPolicies: [{ type: 'Pods', value: 10, periodMs: 150_000 }],
    scaleDownPolicies: [{ type: 'Pods', value: 10, periodMs: 150_000 }],
  };
}

/** Kubernetes' default `behavior` (autoscaling/v2) with the default 10 % tolerance. */
export function kubernetesDefaultHpa(minReplicas: number, maxReplicas: number): HpaSettings {
  return {
    minReplicas,
    maxReplicas,
    tolerance: 0.1,
    scaleUpStabilizationMs: 0,
    scaleDownStabilizationMs: 300_000,
    scaleUpPolicies: [
      { type: 'Pods', value: 4, periodMs: 15_000 },
      { type: 'Percent', value: 100, periodMs: 15_000 },
    ],
    scaleDownPolicies: [{ type: 'Percent', value: 100, periodMs: 15_000 }],
  };
}

/**
 * The `behavior` of deploy/examples/vllm-llama-8b.yaml with its commented `tolerance: 0` turned on
 * (Kubernetes >= 1.33): up by max(1 pod, 100 %) per 15 s, down 1 pod per 60 s after a 120 s window.
 */
export function exampleBehaviourHpa(minReplicas: number, maxReplicas: number): HpaSettings {
  return {
    minReplicas,
    maxReplicas,
    tolerance: 0,
    scaleUpStabilizationMs: 0,
    scaleDownStabilizationMs: 120_000,
    scaleUpPolicies: [
      { type: 'Pods', value: 1, periodMs: 15_000 },
      { type: 'Percent', value: 100, periodMs: 15_000 },
    ],
    scaleDownPolicies: [{ type: 'Pods', value: 1, periodMs: 60_000 }],
  };
}

/** One line for reports. */
export function describeHpa(h: HpaSettings): string {
  const pol = (ps: readonly HpaPolicy[]): string =>
    ps.map((p) => `${p.type === 'Pods' ? `${p.value} pod(s)` : `${p.value} %`}/${p.periodMs / 1000} s`).join(' or ');
  return (
    `tolerance ${h.tolerance * 100} %, scale-up window ${h.scaleUpStabilizationMs / 1000} s, up ${pol(h.scaleUpPolicies)}; ` +
    `scale-down window ${h.scaleDownStabilizationMs / 1000} s, down ${pol(h.scaleDownPolicies)}; min ${h.minReplicas}, max ${h.maxReplicas}`
  );
}

/** The replica count from the metric alone (step 1): AverageValue semantics with tolerance. */
export function averageValueReplicas(value: number, target: number, current: number, tolerance: number): number {
  if (!(target > 0)) throw new Error(`HPA AverageValue target ${target} must be > 0`);
  if (!(value >= 0) || !Number.isFinite(value))
    throw new Error(`HPA metric value ${value} must be a finite number >= 0`);
  if (current <= 0) return Math.ceil(value / target);
  const ratio = value / (target * current);
  if (Math.abs(1 - ratio) <= tolerance) return current;
  return Math.ceil(value / target);
}

/** One external metric of the scale target: KEDA's value for one trigger and its AverageValue target. */
export interface HpaMetric {
  readonly value: number;
  readonly target: number;
}

interface Recommendation {
  readonly at: number;
  readonly replicas: number;
}

interface ScaleEvent {
  readonly at: number;
  /** Positive for a scale-up, negative for a scale-down. */
  readonly delta: number;
}

export class HpaEmulator {
  private readonly recommendations: Recommendation[] = [];
  private readonly events: ScaleEvent[] = [];

  constructor(readonly settings: HpaSettings) {
    if (!Number.isInteger(settings.minReplicas) || settings.minReplicas < 1)
      throw new Error(`HPA minReplicas ${settings.minReplicas} must be an integer >= 1`);
    if (!Number.isInteger(settings.maxReplicas) || settings.maxReplicas < settings.minReplicas) {
      throw new Error(
        `HPA maxReplicas ${settings.maxReplicas} must be an integer >= minReplicas (${settings.minReplicas})`,
      );
    }
  }

  /** One HPA sync on a single metric: the replica count the HPA sets on the target now (may equal `current`). */
  sync(now: number, current: number, value: number, target: number): number {
    return this.syncMetrics(now, current, [{ value, target }]);
  }

  /** One HPA sync on every metric of the target (a ScaledObject with several triggers). */
  syncMetrics(now: number, current: number, metrics: readonly HpaMetric[]): number {
    const s = this.settings;
    if (metrics.length === 0) throw new Error('HPA sync needs at least one metric');
    // Step 1: each metric proposes a count; the HPA follows the highest (computeReplicasForMetrics).
    const raw = Math.max(...metrics.map((m) => averageValueReplicas(m.value, m.target, current, s.tolerance)));

    // Step 2: stabilization over the stored recommendations (the current one included).
    let up = raw;
    let down = raw;
    for (const r of this.recommendations) {
      if (r.at > now - s.scaleUpStabilizationMs) up = Math.min(up, r.replicas);
      if (r.at > now - s.scaleDownStabilizationMs) down = Math.max(down, r.replicas);
    }
    let desired = current;
    if (desired < up) desired = up;
    if (desired > down) desired = down;
    this.recommendations.push({ at: now, replicas: raw });
    const keepMs = Math.max(s.scaleUpStabilizationMs, s.scaleDownStabilizationMs);
    while (this.recommendations.length > 0 && (this.recommendations[0]?.at ?? now) <= now - keepMs)
      this.recommendations.shift();

    // Step 3: rate policies, relative to the replica count at the start of each policy's period.
    if (desired > current) desired = Math.min(desired, this.scaleUpLimit(now, current));
    else if (desired < current) desired = Math.max(desired, this.scaleDownLimit(now, current));

    // Step 4: bounds.
    desired = Math.min(s.maxReplicas, Math.max(s.minReplicas, desired));
    if (desired !== current) this.events.push({ at: now, delta: desired - current });
    const longest = Math.max(
      0,
      ...s.scaleUpPolicies.map((p) => p.periodMs),
      ...s.scaleDownPolicies.map((p) => p.periodMs),
    );
    while (this.events.length > 0 && (this.events[0]?.at ?? now) <= now - longest) this.events.shift();
    return desired;
  }

  private changeSince(now: number, periodMs: number, sign: 1 | -1): number {
    let n = 0;
    for (const e of this.events) if (e.at > now - periodMs && Math.sign(e.delta) === sign) n += Math.abs(e.delta);
    return n;
  }

  private scaleUpLimit(now: number, current: number): number {
    let limit = -Infinity;
    for (const p of this.settings.scaleUpPolicies) {
      const start = current - this.changeSince(now, p.periodMs, 1);
      const l = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
      limit = Math.max(limit, l);
    }
    return limit === -Infinity ? current : limit;
  }

  private scaleDownLimit(now: number, current: number): number {
    let limit = Infinity;
    for (const p of this.settings.scaleDownPolicies) {
      const start = current + this.changeSince(now, p.periodMs, -1);
      const l = p.type === 'Pods' ? start - p.value : Math.floor(start * (1 - p.value / 100));
      limit = Math.min(limit, l);
    }
    return limit === Infinity ? current : limit;
  }
}
