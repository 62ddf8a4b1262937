import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearerTokenSource } from '../../../src/collector/bearer-token.js';
import { PrometheusClient, PrometheusError } from '../../../src/collector/prometheus-client.js';
import { freePort } from '../../helpers/ports.js';
import { FixtureServer, vectorBody } from './fixture-server.js';

const noWait = { random: () => 0, sleep: async () => {} };
const retry = { retries: 2, baseDelayMs: 1, maxDelayMs: 1 };

describe('PrometheusClient (prometheus-query adapter)', () => {
  let server: FixtureServer;
  beforeEach(async () => {
    server = new FixtureServer();
    await server.start();
  });
  afterEach(async () => server.stop());

  const client = (extra: Partial<ConstructorParameters<typeof PrometheusClient>[0]> = {}): PrometheusClient =>
    new PrometheusClient({ baseUrl: server.url(), retry, retryDeps: noWait, timeoutMs: 2000, ...extra });

  it('returns samples, keeps warnings and infos, and maps NaN/+Inf/-Inf to missing', async () => {
    server.route('/api/v1/query', {
      contentType: 'application/json',
      body: vectorBody(
        [
          { labels: { pod: 'p1' }, value: '0.5' },
          { labels: { pod: 'p2' }, value: 'NaN' },
          { labels: { pod: 'p3' }, value: '+Inf' },
          { labels: { pod: 'p4' }, value: '-Inf' },
          { labels: { pod: 'p5' }, value: '0' },
        ],
        {
          warnings: ['PromQL warning: encountered a mix of histograms'],
          infos: ['PromQL info: metric might not be a counter'],
        },
      ),
    });
    const r = await client().query('up');
    expect(r.samples.map((s) => [s.labels.pod, s.value])).toEqual([
      ['p1', 0.5],
      ['p2', undefined],
      ['p3', undefined],
      ['p4', undefined],
      ['p5', 0],
    ]);
    expect(r.warnings).toEqual([
      'PromQL warning: encountered a mix of histograms',
      'info: PromQL info: metric might not be a counter',
    ]);
    const req = server.requests[0]!;
    expect(req.method).toBe('POST'); // long regexes do not fit in URLs
    expect(new URLSearchParams(req.body).get('query')).toBe('up');
  });

  it('turns a Prometheus bad_data answer into a typed, non-retried error', async () => {
    server.route('/api/v1/query', {
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }),
    });
    const err = await client()
      .query('up{')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).kind).toBe('bad_data');
    expect((err as PrometheusError).details.httpStatus).toBe(400);
    expect(server.requests.length).toBe(1);
  });

  it('retries a 503 unavailable and reports it typed after the retries', async () => {
    server.route('/api/v1/query', {
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'not ready' }),
    });
    const err = await client()
      .query('up')
      .catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe('unavailable');
    expect(server.requests.length).toBe(3); // 1 + 2 retries
  });

  it('recovers when a retry succeeds', async () => {
    let n = 0;
    server.route('/api/v1/query', () =>
      ++n === 1
        ? {
            status: 503,
            body: '{"status":"error","errorType":"unavailable","error":"x"}',
            contentType: 'application/json',
          }
        : { body: vectorBody([{ labels: {}, value: '1' }]), contentType: 'application/json' },
    );
    const r = await client().query('up');
    expect(r.samples[0]?.value).toBe(1);
  });

  it('reports a refused connection as network', async () => {
    const port = await freePort();
    const err = await new PrometheusClient({ baseUrl: `http://127.0.0.1:${port}`, retry, retryDeps: noWait })
      .query('up')
      .catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe('network');
    expect((err as PrometheusError).message).toMatch(/ECONNREFUSED/);
  });

  it('times out a slow answer', async () => {
    server.route('/api/v1/query', { delayMs: 1500, body: vectorBody([]), contentType: 'application/json' });
    const err = await client({ timeoutMs: 200, retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } })
      .query('up')
      .catch((e: unknown) => e);
    expect((err as PrometheusError).kind).toBe('timeout');
  });

  it('reports an HTML page (a proxy) as bad_response and an HTTP 401 as auth', async () => {
    server.route('/api/v1/query', { status: 502, body: '<html>bad gateway</html>', contentType: 'text/html' });
    expect(
      (
        (await client()
          .query('up')
          .catch((e: unknown) => e)) as PrometheusError
      ).kind,
    ).toBe('bad_response');
    server.route('/api/v1/query', {
      status: 401,
      body: '{"status":"error","errorType":"unauthorized","error":"no"}',
      contentType: 'application/json',
    });
    expect(
      (
        (await client()
          .query('up')
          .catch((e: unknown) => e)) as PrometheusError
      ).kind,
    ).toBe('auth');
  });

  it('rejects a non-vector result', async () => {
    server.route('/api/v1/query', {
      contentType: 'application/json',
      body: JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '1'] } }),
    });
    expect(
      (
        (await client()
          .query('1')
          .catch((e: unknown) => e)) as PrometheusError
      ).kind,
    ).toBe('bad_response');
  });

  it('sends the bearer token and re-reads the token file when it changes', async () => {
    server.route('/api/v1/query', { body: vectorBody([]), contentType: 'application/json' });
    const dir = mkdtempSync(join(tmpdir(), 'wva-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'first-token\n');
    const c = client({ token: bearerTokenSource({ tokenPath: file, token: 'ignored' }) });
    await c.query('up');
    writeFileSync(file, 'second-token-longer\n');
    await c.query('up');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer first-token',
      'Bearer second-token-longer',
    ]);
    await new PrometheusClient({ baseUrl: server.url(), token: bearerTokenSource({ token: 'static' }) }).query('up');
    expect(server.requests[2]?.headers.authorization).toBe('Bearer static');
  });

  it('fails with a clear message when the CA file is missing', () => {
    expect(() => new PrometheusClient({ baseUrl: 'https://127.0.0.1:1', caCertPath: '/nonexistent/ca.pem' })).toThrow(
      /PROMETHEUS_CA_CERT_PATH \/nonexistent\/ca.pem/,
    );
  });

  it('is canceled by close()', async () => {
    server.route('/api/v1/query', { delayMs: 1000, body: vectorBody([]), contentType: 'application/json' });
    const c = client();
    const pending = c.query('up').catch((e: unknown) => e);
    setTimeout(() => c.close(), 50);
    expect(((await pending) as PrometheusError).kind).toBe('canceled');
  });
});
