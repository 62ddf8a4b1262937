/**
 * The one adapter around `prometheus-query` 3.x. What it fixes about the library (read from its
 * dist/prometheus-query.esm.js, v3.5.1):
 * - errors are thrown as plain objects (`{errorType: 'network_error'|'timeout_error'|'ssl_error'|
 *   'http_error'|'client_error', prometheus: {errorType: 'bad_data'|...}}`): we turn them into
 *   PrometheusError with a `kind`;
 * - `warningHook` reads `response.warnings` on the axios response, not the JSON body, so it never
 *   fires and warnings are dropped: we read `data.warnings`/`data.infos` in a response interceptor
 *   of a per-call driver (a driver is just `axios.create()`, cheap) so warnings belong to their call;
 * - sample values go through `parseFloat`, so `+Inf`/`-Inf`/`NaN` all become NaN: we map every
 *   non-finite value to `undefined` (missing), never 0.
 * The library does time out (axios `timeout` → `timeout_error`) and lets interceptors set headers,
 * `httpsAgent` and an abort signal, so bearer tokens (re-read from file), a CA bundle and
 * skip-verify all fit without replacing it. Queries go as POST (form body): a regex of 1,000 model
 * names does not fit in the URL limits of common proxies.
 */
import { Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { PrometheusDriver, type InstantVector, type QueryResult } from 'prometheus-query';
import type { BearerTokenSource } from './bearer-token.js';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryDeps, type RetryPolicy } from './retry.js';

export type PrometheusErrorKind =
  | 'timeout' // client timeout, or Prometheus' own query timeout
  | 'network' // connection refused/reset, DNS
  | 'tls'
  | 'auth' // HTTP 401/403
  | 'bad_data' // the query is wrong: retrying will not help
  | 'execution' // Prometheus failed to evaluate (e.g. too many samples)
  | 'unavailable' // Prometheus not ready, HTTP 503
  | 'http' // any other HTTP error status
  | 'bad_response' // body is not a Prometheus API response, or not a vector
  | 'canceled'; // closed while in flight

const RETRYABLE: ReadonlySet<PrometheusErrorKind> = new Set([
  'timeout',
  'network',
  'unavailable',
  'http',
  'bad_response',
  'execution',
]);

export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    readonly details: {
      readonly httpStatus?: number;
      readonly prometheusErrorType?: string;
      readonly code?: string;
      readonly query?: string;
    } = {},
  ) {
    super(message);
    this.name = 'PrometheusError';
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  /** undefined = missing (NaN, ±Inf, unparsable): never read as 0. */
  readonly value: number | undefined;
}

export interface PromQueryResult {
  readonly samples: readonly PromSample[];
  /** Prometheus' `warnings` (and `infos`, prefixed "info: ") for this query. */
  readonly warnings: readonly string[];
}

export interface PrometheusClientOptions {
  readonly baseUrl: string;
  readonly token?: BearerTokenSource;
  readonly caCertPath?: string | undefined;
  readonly insecureSkipVerify?: boolean;
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  readonly retryDeps?: RetryDeps;
}

/** The interface the collector uses, so unit tests can supply canned answers. */
export interface PrometheusQuerier {
  query(promql: string, opts?: { time?: number }): Promise<PromQueryResult>;
  close(): void;
}

export class PrometheusClient implements PrometheusQuerier {
  private readonly httpsAgent: HttpsAgent | undefined;
  private readonly abort = new AbortController();
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(private readonly opts: PrometheusClientOptions) {
    const url = new URL(opts.baseUrl); // throws on garbage; settings validated it already
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retry = opts.retry ?? DEFAULT_RETRY_POLICY;
    if (url.protocol === 'https:') {
      let ca: Buffer | undefined;
      if (opts.caCertPath) {
        try {
          ca = readFileSync(opts.caCertPath);
        } catch (error) {
          throw new Error(
            `cannot read PROMETHEUS_CA_CERT_PATH ${opts.caCertPath}: ${(error as Error).message}; expected a PEM CA bundle`,
            { cause: error },
          );
        }
      }
      this.httpsAgent = new HttpsAgent({
        keepAlive: true,
        rejectUnauthorized: !opts.insecureSkipVerify,
        ...(ca ? { ca } : {}),
      });
    }
  }

  /** An instant query, retried with backoff and jitter on transient failures. */
  async query(promql: string, opts: { time?: number } = {}): Promise<PromQueryResult> {
    return withRetry(
      () => this.queryOnce(promql, opts.time),
      (e) => e instanceof PrometheusError && e.retryable && !this.abort.signal.aborted,
      this.retry,
      this.opts.retryDeps,
    );
  }

  close(): void {
    this.abort.abort();
    this.httpsAgent?.destroy();
  }

  private async queryOnce(promql: string, time: number | undefined): Promise<PromQueryResult> {
    if (this.abort.signal.aborted) throw new PrometheusError('canceled', 'Prometheus client closed', { query: promql });
    const warnings: string[] = [];
    let authorization: string | undefined;
    try {
      const token = this.opts.token?.current();
      if (token !== undefined) authorization = `Bearer ${token}`;
    } catch (error) {
      throw new PrometheusError('auth', (error as Error).message, { query: promql });
    }
    const driver = new PrometheusDriver({
      endpoint: this.opts.baseUrl,
      baseURL: '/api/v1/',
      timeout: this.timeoutMs,
      preferPost: true,
      requestInterceptor: {
        onFulfilled: (config) => {
          if (authorization !== undefined) config.headers.set('Authorization', authorization);
          if (this.httpsAgent) config.httpsAgent = this.httpsAgent;
          config.signal = this.abort.signal;
          return config;
        },
      },
      responseInterceptor: {
        onFulfilled: (res) => {
          collectWarnings(res.data, warnings);
          return res;
        },
      },
    });
    let result: QueryResult;
    try {
      // Prometheus' own evaluation timeout matches ours, so it stops working when we stop waiting.
      result = await driver.instantQuery(
        promql,
        time ?? Date.now(),
        `${Math.max(1, Math.floor(this.timeoutMs / 1000))}s`,
      );
    } catch (thrown) {
      throw toPrometheusError(thrown, promql, this.abort.signal.aborted);
    }
    if (String(result.resultType) !== 'vector') {
      throw new PrometheusError('bad_response', `expected a vector result, got ${String(result.resultType)}`, {
        query: promql,
      });
    }
    return { samples: (result.result as InstantVector[]).map(toSample), warnings };
  }
}

function collectWarnings(body: unknown, into: string[]): void {
  if (typeof body !== 'object' || body === null) return;
  const { warnings, infos } = body as { warnings?: unknown; infos?: unknown };
  if (Array.isArray(warnings)) for (const w of warnings) into.push(String(w));
  if (Array.isArray(infos)) for (const i of infos) into.push(`info: ${String(i)}`);
}

function toSample(v: InstantVector): PromSample {
  const raw: unknown = (v.value as { value?: unknown } | undefined)?.value;
  const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
  const labels: Record<string, string> = {};
  const src: unknown = v.metric?.labels;
  if (typeof src === 'object' && src !== null) {
    for (const [k, val] of Object.entries(src)) if (typeof val === 'string') labels[k] = val;
  }
  return { labels, value };
}

/** Maps whatever prometheus-query threw (plain objects, Errors, strings) to a PrometheusError. */
export function toPrometheusError(thrown: unknown, query: string, closed = false): PrometheusError {
  if (thrown instanceof PrometheusError) return thrown;
  if (closed) return new PrometheusError('canceled', 'Prometheus client closed', { query });
  if (typeof thrown === 'object' && thrown !== null && 'errorType' in thrown) {
    const t = thrown as {
      errorType?: unknown;
      error?: unknown;
      code?: unknown;
      httpStatus?: unknown;
      prometheus?: unknown;
    };
    const message = typeof t.error === 'string' ? t.error : 'unknown error';
    const code = typeof t.code === 'string' ? t.code : undefined;
    switch (t.errorType) {
      case 'timeout_error':
        return new PrometheusError('timeout', `Prometheus query timed out: ${message}`, {
          query,
          ...(code ? { code } : {}),
        });
      case 'ssl_error':
        return new PrometheusError('tls', `TLS error talking to Prometheus: ${message}`, {
          query,
          ...(code ? { code } : {}),
        });
      case 'network_error':
        if (code === 'ERR_CANCELED')
          return new PrometheusError('canceled', 'Prometheus query canceled', { query, code });
        // Node reports TLS verification failures as plain codes, not ERR_SSL_*.
        if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS/i.test(code))
          return new PrometheusError('tls', `TLS error talking to Prometheus: ${message}`, { query, code });
        if (code === 'ETIMEDOUT')
          return new PrometheusError('timeout', `Prometheus query timed out: ${message}`, { query, code });
        return new PrometheusError('network', `cannot reach Prometheus: ${message}${code ? ` (${code})` : ''}`, {
          query,
          ...(code ? { code } : {}),
        });
      case 'http_error': {
        const httpStatus = typeof t.httpStatus === 'number' ? t.httpStatus : undefined;
        const p = t.prometheus as { errorType?: unknown } | undefined;
        const prometheusErrorType = typeof p?.errorType === 'string' ? p.errorType : undefined;
        const details = {
          query,
          ...(httpStatus !== undefined ? { httpStatus } : {}),
          ...(prometheusErrorType ? { prometheusErrorType } : {}),
        };
        const text = `Prometheus answered HTTP ${httpStatus ?? '?'}${prometheusErrorType ? ` ${prometheusErrorType}` : ''}: ${message}`;
        if (httpStatus === 401 || httpStatus === 403) return new PrometheusError('auth', text, details);
        switch (prometheusErrorType) {
          case 'bad_data':
            return new PrometheusError('bad_data', text, details);
          case 'timeout':
            return new PrometheusError('timeout', text, details);
          case 'canceled':
            return new PrometheusError('canceled', text, details);
          case 'execution':
          case 'internal':
            return new PrometheusError('execution', text, details);
          case 'unavailable':
            return new PrometheusError('unavailable', text, details);
          default:
            return new PrometheusError(httpStatus === 503 ? 'unavailable' : 'http', text, details);
        }
      }
      case 'client_error':
        // The body was not a Prometheus API response (e.g. an HTML page from a proxy).
        return new PrometheusError(
          'bad_response',
          `Prometheus answered something that is not an API response (${message})`,
          { query },
        );
      default:
        return new PrometheusError('bad_response', `unexpected error from prometheus-query: ${message}`, { query });
    }
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new PrometheusError('bad_response', `cannot read Prometheus response: ${message}`, { query });
}
