/** The load trace of the quality bench: piecewise-constant Poisson rates over simulated minutes. */

export interface TracePhase {
  readonly name: string;
  /** Start of the phase, in minutes from the beginning of the run. */
  readonly fromMin: number;
  /** Poisson arrival rate during the phase, requests per second. */
  readonly rps: number;
}

export interface LoadTrace {
  readonly name: string;
  readonly phases: readonly TracePhase[];
  readonly durationMin: number;
  /** Each change of rate is spread linearly over this many minutes (0 = a step). */
  readonly rampMin: number;
}

/** idle -> sharp burst -> steady -> second burst -> idle, 30 simulated minutes. */
export const BURSTY_TRACE: LoadTrace = {
  name: 'sharp',
  durationMin: 30,
  rampMin: 0,
  phases: [
    { name: 'idle', fromMin: 0, rps: 1 },
    { name: 'burst', fromMin: 4, rps: 48 },
    { name: 'steady', fromMin: 9, rps: 24 },
    { name: 'burst 2', fromMin: 17, rps: 56 },
    { name: 'idle', fromMin: 22, rps: 1 },
  ],
};

/** The same levels, each change spread over 3 minutes (traffic that builds up rather than jumps). */
export const RAMPED_TRACE: LoadTrace = { ...BURSTY_TRACE, name: 'ramped', rampMin: 3 };

/** The phase in force at `ms` (the last one that started at or before it). */
export function phaseAt(trace: LoadTrace, ms: number): TracePhase {
  let current = trace.phases[0];
  if (!current) throw new Error('load trace has no phases');
  for (const p of trace.phases) if (p.fromMin * 60_000 <= ms) current = p;
  return current;
}

export function describeTrace(trace: LoadTrace): string {
  return (
    trace.phases
      .map((p, i) => {
        const to = trace.phases[i + 1]?.fromMin ?? trace.durationMin;
        return `${p.name} ${p.rps} req/s (min ${p.fromMin}–${to})`;
      })
      .join(' → ') + (trace.rampMin > 0 ? `, each change ramped over ${trace.rampMin} min` : ', each change a step')
  );
}

/** Offered rate at `ms`: the phase's level, or on the way to it while the phase's ramp lasts. */
export function rateAt(trace: LoadTrace, ms: number): number {
  const phase = phaseAt(trace, ms);
  const i = trace.phases.indexOf(phase);
  const prev = i > 0 ? trace.phases[i - 1] : undefined;
  if (!prev || trace.rampMin <= 0) return phase.rps;
  const into = (ms - phase.fromMin * 60_000) / (trace.rampMin * 60_000);
  if (into >= 1) return phase.rps;
  return prev.rps + (phase.rps - prev.rps) * into;
}

/**
 * Highest offered rate over [fromMs, fromMs + spanMs]. The rate is piecewise linear (steps, or
 * ramps that end `rampMin` after a phase starts), so its maximum is at an end of the span or at a
 * phase start or ramp end inside it.
 */
export function peakRateWithin(trace: LoadTrace, fromMs: number, spanMs: number): number {
  const toMs = fromMs + Math.max(0, spanMs);
  let peak = Math.max(rateAt(trace, fromMs), rateAt(trace, toMs));
  for (const p of trace.phases) {
    for (const at of [p.fromMin * 60_000, (p.fromMin + trace.rampMin) * 60_000]) {
      if (at > fromMs && at < toMs) peak = Math.max(peak, rateAt(trace, at));
    }
  }
  return peak;
}

/** A window of KEDA's `cron` trigger: `desiredReplicas` from `fromMs` until `toMs` (simulated time). */
export interface CronWindow {
  readonly fromMs: number;
  readonly toMs: number;
  readonly desiredReplicas: number;
}

/**
 * The `cron` windows an operator would write for this trace's peaks, knowing them from history:
 * one per phase that raises the rate, from `leadMin` before it starts (a pod must be ready when the
 * load arrives; cron schedules have minute resolution) until the next phase starts, asking for the
 * replicas the phase's rate needs at `rpsPerReplica`.
 */
export function peakSchedule(trace: LoadTrace, leadMin: number, rpsPerReplica: number): CronWindow[] {
  if (!Number.isInteger(leadMin) || leadMin < 0)
    throw new Error(`cron lead ${leadMin}: expected whole minutes >= 0 (cron has minute resolution)`);
  if (!(rpsPerReplica > 0)) throw new Error(`rpsPerReplica ${rpsPerReplica}: expected > 0`);
  const out: CronWindow[] = [];
  trace.phases.forEach((p, i) => {
    const prev = trace.phases[i - 1];
    if (!prev || p.rps <= prev.rps) return;
    const toMin = trace.phases[i + 1]?.fromMin ?? trace.durationMin;
    out.push({
      fromMs: Math.max(0, p.fromMin - leadMin) * 60_000,
      toMs: toMin * 60_000,
      desiredReplicas: Math.ceil(p.rps / rpsPerReplica - 1e-9),
    });
  });
  return out;
}
