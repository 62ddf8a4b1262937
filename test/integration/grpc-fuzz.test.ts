/**
 * Fuzz of trigger metadata and the gRPC requests (fast-check): any input gets OK, INVALID_ARGUMENT,
 * NOT_FOUND or UNAVAILABLE, never INTERNAL or UNKNOWN; the error text stays short; memory stays
 * bounded (registrations are capped; nothing keeps the inputs).
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataError, METADATA_KEYS, parseTriggerMetadata } from '../../src/config/trigger-metadata.js';
import { startHarness, unary, type Harness } from '../helpers/scaler-harness.js';

const ALLOWED = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.UNAVAILABLE]);
const MAX_ERROR = 2000;
const MAX_VARIANTS = 50;

const keys = [...Object.keys(METADATA_KEYS), ...Object.keys(METADATA_KEYS).map((k) => `${k}FromEnv`), 'scalerAddress'];
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '1',
    '-1',
    '0x10',
    '1e20',
    '1e-3',
    'NaN',
    'Infinity',
    '720h',
    '0.001ms',
    'true',
    'llm',
    'a/b',
    'a.b',
    '\u0000',
    '\uD800',
  ),
  fc.nat({ max: 200_000 }).map((n) => 'z'.repeat(n)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const metadata = fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 20 })), text, { maxKeys: 8 });
const ref = fc.record({ namespace: text, name: text, scalerMetadata: metadata });

describe('trigger metadata fuzz', () => {
  it('any metadata is a Variant or a MetadataError with a short message', () => {
    fc.assert(
      fc.property(text, text, metadata, (namespace, name, md) => {
        try {
          const v = parseTriggerMetadata(namespace, name, md);
          expect(v.key.split('/')).toHaveLength(2);
          expect(v.modelID.length).toBeLessThanOrEqual(256);
        } catch (e) {
          expect(e).toBeInstanceOf(MetadataError);
          expect((e as Error).message.length).toBeLessThan(MAX_ERROR);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('gRPC request fuzz', () => {
  let h: Harness;
  let client: grpc.Client;
  beforeAll(async () => {
    h = await startHarness({ firstDecisionDeadlineMs: 20, maxGrpcVariants: MAX_VARIANTS });
    client = h.client();
  });
  afterAll(async () => h?.stop());

  const call = async (method: string, req: unknown): Promise<void> => {
    const code = await unary(client, method, req, 5000).then(
      () => grpc.status.OK,
      (e: grpc.ServiceError) => {
        expect(e.details.length, `${method}: ${e.details.slice(0, 200)}`).toBeLessThan(MAX_ERROR);
        return e.code;
      },
    );
    expect(ALLOWED.has(code), `${method} answered ${grpc.status[code]}`).toBe(true);
  };

  it('GetMetricSpec, GetMetrics and IsActive answer only OK, INVALID_ARGUMENT, NOT_FOUND or UNAVAILABLE', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(ref, fc.option(fc.string({ maxLength: 30 })), async (r, metricName) => {
        await call('GetMetricSpec', r);
        await call('GetMetrics', { scaledObjectRef: r, metricName: metricName ?? '' });
        await call('GetMetrics', { metricName: 'x' });
        await call('IsActive', r);
      }),
      { numRuns: 150 },
    );
    expect(h.registry.size).toBeLessThanOrEqual(MAX_VARIANTS);
    global.gc?.();
    // Inputs up to 200 KB each went through; nothing holds on to them.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
  }, 120_000);
});
