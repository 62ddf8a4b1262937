/**
 * Finding 5 over real gRPC: names as Kubernetes validates them (no two refs share a variant key),
 * bounded strings with short errors, and a bound on variants registered through GetMetricSpec.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, unary, type Harness } from '../helpers/scaler-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const spec = (c: grpc.Client, namespace: string, name: string, metadata: Record<string, string>) =>
  unary(c, 'GetMetricSpec', { namespace, name, scalerMetadata: metadata });

describe('GetMetricSpec limits', () => {
  it('(llm, a/b) and (llm/a, b) are refused: they would share the variant key llm/a/b', async () => {
    h = await startHarness();
    const c = h.client();
    await expect(spec(c, 'llm', 'a/b', { modelID: 'm1' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(
        /^invalid trigger metadata: name="a\/b": expected the ScaledObject name, a DNS-1123 subdomain/,
      ),
    });
    await expect(spec(c, 'llm/a', 'b', { modelID: 'm2' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/namespace="llm\/a": expected the ScaledObject namespace, a DNS-1123 label/),
    });
    await expect(spec(c, 'LLM', 'b', { modelID: 'm2' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(h.registry.size).toBe(0);
  });

  it.each(['modelID', 'accelerator'])(
    'a 100 KB %s is INVALID_ARGUMENT with a short error naming the key',
    async (key) => {
      h = await startHarness();
      const metadata = { modelID: 'm', [key]: 'y'.repeat(100_000) };
      const err = await spec(h.client(), 'llm', 'v', metadata).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err?.details).toContain(`${key}="yyyy`);
      expect(err?.details).toContain('(100000 chars)');
      expect(err?.details.length).toBeLessThan(400);
    },
  );

  it('a 3 MB metadata value gives INVALID_ARGUMENT naming the key, not RESOURCE_EXHAUSTED', async () => {
    h = await startHarness();
    const err = await spec(h.client(), 'llm', 'v', { modelID: 'm', variantCost: '9'.repeat(3_000_000) }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(
      /^invalid trigger metadata: variantCost="9+"… \(3000000 chars\): expected a number above 0/,
    );
  });

  it('registers at most maxGrpcVariants variants through gRPC; known ones keep working', async () => {
    h = await startHarness({ maxGrpcVariants: 3 });
    const c = h.client();
    for (let i = 0; i < 3; i++) await spec(c, 'llm', `v-${i}`, { modelID: 'm' });
    await expect(spec(c, 'llm', 'v-3', { modelID: 'm' })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(
        /3 variants are already registered through GetMetricSpec \(WVA_MAX_GRPC_VARIANTS\)/,
      ),
    });
    await expect(spec(c, 'llm', 'v-1', { modelID: 'm', accelerator: 'H100' })).resolves.toBeDefined();
    expect(h.registry.size).toBe(3);
    h.registry.remove('llm/v-0');
    await expect(spec(c, 'llm', 'v-3', { modelID: 'm' })).resolves.toBeDefined();
  });
});
