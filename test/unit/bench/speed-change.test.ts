import { describe, expect, it } from 'vitest';
import { createTokenFleet } from '../../../bench/lib/token-fleet-factory.js';
import type { TokenModelSnapshot } from '../../../bench/lib/token-fleet.js';
import { SPEED_CHANGE_SCENARIO, loopVariants, poissonRequests } from '../../../bench/lib/token-scenarios.js';
import { ACCELERATOR_PROFILES } from '../../../src/sim/fleet/profiles.js';

/** Mean inter-token latency (ms) over the pods between two snapshots of the same pods. */
function meanItlMs(a: TokenModelSnapshot, b: TokenModelSnapshot): number {
  let sum = 0;
  let count = 0;
  for (const p of b.pods) {
    const q = a.pods.find((x) => x.pod === p.pod);
    sum += (p.latency?.itl.sum ?? 0) - (q?.latency?.itl.sum ?? 0);
    count += (p.latency?.itl.count ?? 0) - (q?.latency?.itl.count ?? 0);
  }
  return (sum * 1000) / count;
}

describe('speed-change scenario wiring', () => {
  it("moves the variant's pods to the new GPU at the change: the step time follows, the variant keeps its name", () => {
    const ns = 'ns';
    const model = 'm';
    const fleet = createTokenFleet({
      namespace: ns,
      modelID: model,
      variants: [
        {
          deployment: 'd',
          replicas: 2,
          startupDelayMs: 60_000,
          accelerator: 'A100',
          speedChange: { atMs: 120_000, accelerator: 'L4' },
        },
      ],
      seed: 1,
      flowControl: true,
      onRequestEvent: () => undefined,
    });
    fleet.enqueueRequests(ns, model, poissonRequests([{ fromS: 0, rps: 1 }], 240, 500, 100, 1));
    fleet.step(60_000);
    const a0 = fleet.model();
    fleet.step(45_000); // a 15 s cycle ending at 105 s
    const a1 = fleet.model();
    expect(a1.pods.every((p) => p.accelerator === 'A100' && p.deployment === 'd')).toBe(true);
    // One pending replica at the change: it stays pending on the new GPU.
    fleet.setReplicas(ns, 'd', 3);
    fleet.step(30_000); // crosses 120 s inside the step
    expect(fleet.deploymentStatus(ns, 'd')).toEqual({ current: 3, ready: 2 });
    const b0 = fleet.model();
    expect(b0.pods.map((p) => p.accelerator)).toEqual(['L4', 'L4', 'L4']);
    expect(b0.pods.every((p) => p.deployment === 'd')).toBe(true);
    fleet.step(60_000);
    const b1 = fleet.model();
    expect(fleet.deploymentStatus(ns, 'd')).toEqual({ current: 3, ready: 3 });
    const before = meanItlMs(a0, a1);
    const after = meanItlMs(b0, b1);
    // Light load: ITL is about the step floor α of each GPU (A100 10.4 ms, L4 56 ms).
    expect(before).toBeGreaterThan(ACCELERATOR_PROFILES.A100.alphaMs);
    expect(before).toBeLessThan(ACCELERATOR_PROFILES.A100.alphaMs * 1.5);
    expect(after).toBeGreaterThan(ACCELERATOR_PROFILES.L4.alphaMs);
    expect(after).toBeLessThan(ACCELERATOR_PROFILES.L4.alphaMs * 1.5);
  });

  it('the scenario carries its change to the loop variant; the others carry none', () => {
    expect(loopVariants(SPEED_CHANGE_SCENARIO, 60)[0]?.speedChange).toEqual({ atMs: 600_000, accelerator: 'L4' });
    expect(SPEED_CHANGE_SCENARIO.accelerator).toBe('A100');
  });
});
