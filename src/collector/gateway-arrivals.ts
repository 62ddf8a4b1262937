/**
 * The gateway's arrival rate per model for the scrape backend, with the meaning the prometheus
 * backend's `irate(inference_objective_request_total[1m])` has: per series, the counter's increase
 * between the last two scrapes over the time between them (a decrease is a counter reset, and the
 * new value is then the increase, as Prometheus counts it), summed per model by the gateway rule
 * (gateway-queue.ts: `target_model_name`, optional `namespace`).
 *
 * A series scraped once has no rate yet and is left out, as irate() leaves out a series with one
 * sample: a model none of whose series has two scrapes has no entry (missing, never 0). A NaN
 * reading makes that series' rate, and so the model's sum, missing.
 */
import {
  gatewaySumByModel,
  preferredGatewayArrivalMetric,
  type GatewayModel,
  type GatewaySeries,
} from './gateway-queue.js';
import type { TextSample } from './text-format.js';

export interface CounterReading {
  /** When it was read (ms). */
  readonly t: number;
  /** undefined: NaN or unparsable. */
  readonly value: number | undefined;
}

/** Increase per second from `previous` to `current`; undefined when either is missing or no time passed. */
export function counterRate(previous: CounterReading, current: CounterReading): number | undefined {
  if (previous.value === undefined || current.value === undefined) return undefined;
  const dtMs = current.t - previous.t;
  if (!(dtMs > 0)) return undefined;
  const increase = current.value >= previous.value ? current.value - previous.value : current.value;
  return (increase * 1000) / dtMs;
}

/** A series' identity: metric name and label set (label order does not matter). */
function seriesKey(s: TextSample): string {
  const labels = Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([s.name, labels]);
}

/**
 * The last reading of every series of the gateway's request counter, one instance per collector.
 * Only the latest scrape's series are kept, so a series the gateway dropped is forgotten.
 */
export class GatewayArrivalRates {
  private readings = new Map<string, CounterReading>();

  /**
   * Rate by model key from one gateway scrape at `t` (ms): the counter under the name this
   * exposition prefers (never both), each series against its reading of the previous scrape.
   */
  update(t: number, samples: readonly TextSample[], models: readonly GatewayModel[]): Map<string, number | undefined> {
    const metric = preferredGatewayArrivalMetric(new Set(samples.map((s) => s.name)));
    const next = new Map<string, CounterReading>();
    const rates: GatewaySeries[] = [];
    for (const s of samples) {
      if (s.name !== metric) continue;
      const key = seriesKey(s);
      const current: CounterReading = { t, value: s.value };
      const previous = this.readings.get(key);
      next.set(key, current);
      if (previous) rates.push({ labels: s.labels, value: counterRate(previous, current) });
    }
    this.readings = next;
    return gatewaySumByModel(rates, models);
  }
}
