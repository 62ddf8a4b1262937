/**
 * Placement as a pure function of (needs, inventory, quotas, priorities), table by table.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITER_CONFIG,
  type GpuInventory,
  type GpuTypeInventory,
  type LimiterConfig,
  type QuotaLimiter,
  type VariantGpu,
} from '../../../src/domain/gpu.js';
import type { Variant } from '../../../src/domain/variant.js';
import { placeModels, type PlacementInput, type PlacementModel } from '../../../src/engine/placement.js';
import { NOW, variant } from './fixtures.js';

const L4 = 'NVIDIA-L4';
const H100 = 'NVIDIA-H100';

function type(t: string, nodeFree: number[], used = 0, usedByNamespace: Record<string, number> = {}): GpuTypeInventory {
  return {
    type: t,
    resource: 'nvidia.com/gpu',
    allocatable: nodeFree.reduce((s, f) => s + f, 0) + used,
    nodeFree,
    used,
    usedByNamespace: new Map(Object.entries(usedByNamespace)),
  };
}

function gpu(t: string | undefined, gpusPerReplica = 1, over: Partial<VariantGpu> = {}): VariantGpu {
  return { type: t, resource: 'nvidia.com/gpu', gpusPerReplica, unschedulable: 0, fullReason: undefined, ...over };
}

function inventory(
  types: GpuTypeInventory[],
  variants: Record<string, VariantGpu>,
  rq: Record<string, number> = {},
): GpuInventory {
  return {
    types: new Map(types.map((t) => [t.type, t])),
    variants: new Map(Object.entries(variants)),
    namespaceQuotas: new Map(
      Object.entries(rq).map(([ns, room]) => [
        ns,
        new Map([['nvidia.com/gpu', { resource: 'nvidia.com/gpu', hard: room, room, name: 'gpu-quota' }] as const]),
      ]),
    ),
  };
}

const cheap = variant('llama-l4', { cost: 5, accelerator: 'L4' });
const dear = variant('llama-h100', { cost: 30, accelerator: 'H100' });

function model(
  vs: [Variant, number, number][],
  over: Partial<PlacementModel> = {},
  key = 'ns/meta/llama-8b',
): PlacementModel {
  return {
    key,
    namespace: 'ns',
    priority: 1,
    steady: false,
    variants: vs.map(([v, current, desired]) => ({ variant: v, current, desired })),
    ...over,
  };
}

function run(over: Partial<PlacementInput> & Pick<PlacementInput, 'models' | 'inventory'>): PlacementInput {
  return {
    limits: DEFAULT_LIMITER_CONFIG,
    now: NOW,
    lastBlockedAt: new Map(),
    lastRebalance: new Map(),
    returnHoldMs: 30_000,
    ...over,
  };
}

const desiredOf = (input: PlacementInput, key = 'ns/meta/llama-8b'): Record<string, number> =>
  Object.fromEntries(placeModels(input).models.get(key)?.desired ?? []);

const quota = (limiters: QuotaLimiter[]): LimiterConfig => ({ enabled: true, quotas: limiters });

describe('placement: spill-over', () => {
  const cases: {
    name: string;
    types: GpuTypeInventory[];
    l4: number;
    h100: number;
    want: [number, number];
    gpus?: [number, number];
    expected: Record<string, number>;
    shortfall: number;
  }[] = [
    {
      name: 'room on L4: as asked',
      types: [type(L4, [2, 2]), type(H100, [8])],
      l4: 1,
      h100: 0,
      want: [4, 0],
      expected: { 'ns/llama-l4': 4, 'ns/llama-h100': 0 },
      shortfall: 0,
    },
    {
      name: 'L4 holds 2 more: the rest spills to H100',
      types: [type(L4, [1, 1]), type(H100, [8])],
      l4: 1,
      h100: 0,
      want: [5, 0],
      expected: { 'ns/llama-l4': 3, 'ns/llama-h100': 2 },
      shortfall: 0,
    },
    {
      name: 'L4 exhausted: everything new on H100',
      types: [type(L4, [0, 0]), type(H100, [8])],
      l4: 2,
      h100: 1,
      want: [4, 1],
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 3 },
      shortfall: 0,
    },
    {
      name: 'both exhausted: shortfall, nothing asked beyond current',
      types: [type(L4, [0]), type(H100, [0])],
      l4: 2,
      h100: 1,
      want: [4, 1],
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 1 },
      shortfall: 2,
    },
    {
      name: 'fragmented: 2 free on 2 nodes do not fit a 2-GPU replica',
      types: [type(L4, [1, 1]), type(H100, [8])],
      l4: 1,
      h100: 0,
      want: [2, 0],
      gpus: [2, 2],
      expected: { 'ns/llama-l4': 1, 'ns/llama-h100': 1 },
      shortfall: 0,
    },
    {
      name: 'no node of the type at all: spills',
      types: [type(H100, [8])],
      l4: 0,
      h100: 0,
      want: [1, 0],
      expected: { 'ns/llama-l4': 0, 'ns/llama-h100': 1 },
      shortfall: 0,
    },
    {
      name: 'scale-down is never touched',
      types: [type(L4, [0]), type(H100, [0])],
      l4: 4,
      h100: 2,
      want: [4, 1],
      expected: { 'ns/llama-l4': 4, 'ns/llama-h100': 1 },
      shortfall: 0,
    },
  ];
  it.each(cases)('$name', (c) => {
    const [g1, g2] = c.gpus ?? [1, 1];
    const input = run({
      models: [
        model([
          [cheap, c.l4, c.want[0]],
          [dear, c.h100, c.want[1]],
        ]),
      ],
      inventory: inventory(c.types, { [cheap.key]: gpu(L4, g1), [dear.key]: gpu(H100, g2) }),
    });
    const r = placeModels(input);
    const p = r.models.get('ns/meta/llama-8b');
    expect(Object.fromEntries(p?.desired ?? [])).toEqual(c.expected);
    expect(p?.shortfall).toBe(c.shortfall);
    if (c.shortfall > 0)
      expect(p?.notes.some((n) => n.code === 'gpu-shortfall' && n.text.includes('GPU shortfall'))).toBe(true);
  });

  // SLO mode sizes by capacity: one H100 replica (18.85 req/s within target) serves what 16.5 L4
  // replicas (1.14 req/s) do, so replicas that spill from L4 are converted, not moved one for one.
  // The L4 at cost 1 is the cheaper per unit of capacity (0.88 against 1.59).
  const l4 = variant('llama-l4', { cost: 1, accelerator: 'L4' });
  it.each([
    { name: 'room for 2 more L4: 7 L4 replicas short go as 1 H100', l4Free: [1, 1], want: 10, l4: 3, h100: 1 },
    { name: 'L4 exhausted: 17 L4 replicas wanted go as 2 H100', l4Free: [0], want: 18, l4: 1, h100: 2 },
    { name: 'room for all on L4: as asked', l4Free: [4, 4], want: 6, l4: 6, h100: 0 },
  ])('by capacity (SLO mode): $name', (c) => {
    const r = placeModels(
      run({
        models: [
          {
            ...model([
              [l4, 1, c.want],
              [dear, 0, 0],
            ]),
            variants: [
              { variant: l4, current: 1, desired: c.want, capacity: 1.14 },
              { variant: dear, current: 0, desired: 0, capacity: 18.85 },
            ],
          },
        ],
        inventory: inventory([type(L4, c.l4Free), type(H100, [8])], { [l4.key]: gpu(L4), [dear.key]: gpu(H100) }),
      }),
    );
    const p = r.models.get('ns/meta/llama-8b');
    expect(Object.fromEntries(p?.desired ?? [])).toEqual({ 'ns/llama-l4': c.l4, 'ns/llama-h100': c.h100 });
    expect(p?.shortfall).toBe(0);
  });

  it('by capacity, what fits nowhere is counted in replicas of the cheapest per unit, rounded up', () => {
    const r = placeModels(
      run({
        models: [
          {
            ...model([]),
            variants: [
              { variant: l4, current: 1, desired: 4, capacity: 1.14 },
              { variant: dear, current: 0, desired: 0, capacity: 18.85 },
            ],
          },
        ],
        inventory: inventory([type(L4, [0]), type(H100, [0])], { [l4.key]: gpu(L4), [dear.key]: gpu(H100) }),
      }),
    );
    expect(r.models.get('ns/meta/llama-8b')?.shortfall).toBe(3);
  });

  it('says where replicas spilled from and why', () => {
    const r = placeModels(
      run({
        models: [
          model([
            [cheap, 1, 3],
            [dear, 0, 0],
          ]),
        ],
        inventory: inventory([type(L4, [0]), type(H100, [8])], { [cheap.key]: gpu(L4), [dear.key]: gpu(H100) }),
      }),
    );
    const notes = r.models.get('ns/meta/llama-8b')?.notes ?? [];
    const spill = notes.find((n) => n.code === 'placement-spill');
    expect(spill?.variantKey).toBe(dear.key);
    expect(spill?.text).toMatch(/\+2 spilled over from ns\/llama-l4: NVIDIA-L4 full/);
    expect(r.blocked.has(cheap.key)).toBe(true);
  });

  it('a variant at its max is skipped without counting as blocked', () => {
    const small = variant('llama-l4', { cost: 5, maxReplicas: 2 });
    const input = run({
      models: [
        model([
          [small, 2, 2],
          [dear, 0, 1],
        ]),
      ],
      inventory: inventory([type(L4, [8]), type(H100, [8])], { [small.key]: gpu(L4), [dear.key]: gpu(H100) }),
    });
    expect(desiredOf(input)).toEqual({ 'ns/llama-l4': 2, 'ns/llama-h100': 1 });
    expect(placeModels(input).blocked.size).toBe(0);
  });
});

describe('placement: what is not limited', () => {
  it.each([
    { name: 'empty inventory (no GPU visible) and no variant GPUs: as asked', inv: inventory([], {}) },
    {
      name: 'pod template requests no GPU',
      inv: inventory([type(L4, [0])], { [cheap.key]: gpu(undefined, 0), [dear.key]: gpu(undefined, 0) }),
    },
    { name: 'Deployment not seen yet (variant missing)', inv: inventory([type(L4, [0])], {}) },
  ])('$name', ({ inv }) => {
    const input = run({
      models: [
        model([
          [cheap, 1, 4],
          [dear, 0, 0],
        ]),
      ],
      inventory: inv,
    });
    expect(desiredOf(input)).toEqual({ 'ns/llama-l4': 4, 'ns/llama-h100': 0 });
    expect(placeModels(input).models.get('ns/meta/llama-8b')?.shortfall).toBe(0);
  });

  it('says so in a trace line', () => {
    const r = placeModels(
      run({ models: [model([[cheap, 1, 2]])], inventory: inventory([], { [cheap.key]: gpu(undefined, 0) }) }),
    );
    expect(r.models.get('ns/meta/llama-8b')?.notes.map((n) => n.code)).toEqual(['placement-unlimited']);
  });
});

describe('placement: quotas (WVA v0.9 limiters, ResourceQuota)', () => {
  const cluster = (quotas: Record<string, number>): QuotaLimiter => ({
    name: 'q',
    scope: 'cluster',
    quotas: new Map(Object.entries(quotas)),
  });
  const perNs = (nq: Record<string, Record<string, number>>, exclude: string[] = []): QuotaLimiter => ({
    name: 'nsq',
    scope: 'namespace',
    namespaceQuotas: new Map(Object.entries(nq).map(([k, v]) => [k, new Map(Object.entries(v))])),
    exclude: new Set(exclude),
  });
  const inv = inventory([type(L4, [8], 2, { ns: 2 }), type(H100, [8])], {
    [cheap.key]: gpu(L4),
    [dear.key]: gpu(H100),
  });
  it.each([
    {
      name: '-1: unlimited',
      limits: quota([cluster({ [L4]: -1, [H100]: -1 })]),
      expected: { 'ns/llama-l4': 6, 'ns/llama-h100': 0 },
    },
    {
      name: 'cluster cap 4 on L4 (2 used): 2 more, rest to H100',
      limits: quota([cluster({ [L4]: 4, [H100]: -1 })]),
      expected: { 'ns/llama-l4': 4, 'ns/llama-h100': 2 },
    },
    {
      name: '0: L4 denied',
      limits: quota([cluster({ [L4]: 0, [H100]: -1 })]),
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 4 },
    },
    {
      name: 'a type the entry does not list is denied',
      limits: quota([cluster({ [H100]: 1 })]),
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 1 },
    },
    {
      name: 'namespace cap 3 on L4',
      limits: quota([perNs({ ns: { [L4]: 3, [H100]: -1 } })]),
      expected: { 'ns/llama-l4': 3, 'ns/llama-h100': 3 },
    },
    {
      name: 'namespace default fallback',
      limits: quota([perNs({ default: { [L4]: 2, [H100]: 2 } })]),
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 2 },
    },
    {
      name: 'excluded namespace passes through',
      limits: quota([perNs({ default: { [L4]: 0 } }, ['ns'])]),
      expected: { 'ns/llama-l4': 6, 'ns/llama-h100': 0 },
    },
    {
      name: "enableLimiter off is the engine shell's business: quotas still parsed here",
      limits: { enabled: false, quotas: [] },
      expected: { 'ns/llama-l4': 6, 'ns/llama-h100': 0 },
    },
  ])('$name', ({ limits, expected }) => {
    expect(
      desiredOf(
        run({
          models: [
            model([
              [cheap, 2, 6],
              [dear, 0, 0],
            ]),
          ],
          inventory: inv,
          limits,
        }),
      ),
    ).toEqual(expected);
  });

  it('a namespace ResourceQuota on requests.nvidia.com/gpu bounds every type', () => {
    const withRq = inventory(
      [type(L4, [8]), type(H100, [8])],
      { [cheap.key]: gpu(L4), [dear.key]: gpu(H100) },
      { ns: 3 },
    );
    const r = placeModels(
      run({
        models: [
          model([
            [cheap, 1, 6],
            [dear, 0, 0],
          ]),
        ],
        inventory: withRq,
      }),
    );
    const p = r.models.get('ns/meta/llama-8b');
    expect(Object.fromEntries(p?.desired ?? [])).toEqual({ 'ns/llama-l4': 4, 'ns/llama-h100': 0 });
    expect(p?.shortfall).toBe(2);
    expect(p?.notes.find((n) => n.code === 'gpu-shortfall')?.text).toMatch(/ResourceQuota gpu-quota in ns/);
  });
});

describe('placement: priority when models compete for one type', () => {
  const a = variant('a-h100', { modelID: 'a', cost: 10 });
  const b = variant('b-h100', { modelID: 'b', cost: 10 });
  const inv = (free: number) => inventory([type(H100, [free])], { [a.key]: gpu(H100), [b.key]: gpu(H100) });
  it.each([
    { name: 'equal priority: even split', pa: 1, pb: 1, free: 4, wa: 4, wb: 4, ea: 2, eb: 2 },
    {
      name: 'priority 3 vs 1: split where priority x unmet is level',
      pa: 3,
      pb: 1,
      free: 4,
      wa: 4,
      wb: 4,
      ea: 3,
      eb: 1,
    },
    { name: 'priority 2 vs 1, wants 6 and 2: ties go by model key', pa: 2, pb: 1, free: 6, wa: 6, wb: 2, ea: 6, eb: 0 },
    { name: 'room for all: both satisfied', pa: 3, pb: 1, free: 10, wa: 3, wb: 3, ea: 3, eb: 3 },
    { name: 'low priority still gets leftovers', pa: 0.00001, pb: 1, free: 4, wa: 2, wb: 2, ea: 2, eb: 2 },
  ])('$name', (c) => {
    const r = placeModels(
      run({
        models: [
          model([[a, 0, c.wa]], { priority: c.pa, key: 'ns/a' }, 'ns/a'),
          model([[b, 0, c.wb]], { priority: c.pb, key: 'ns/b' }, 'ns/b'),
        ],
        inventory: inv(c.free),
      }),
    );
    expect(r.models.get('ns/a')?.desired.get(a.key)).toBe(c.ea);
    expect(r.models.get('ns/b')?.desired.get(b.key)).toBe(c.eb);
    expect(r.models.get('ns/b')?.shortfall).toBe(c.wb - c.eb);
  });
});

describe('placement: Unschedulable pods and moving back', () => {
  it('a full variant gives up its Unschedulable replicas to a variant with room, keeping its min', () => {
    const l4 = variant('llama-l4', { cost: 5, minReplicas: 1 });
    const full = gpu(L4, 1, { unschedulable: 2, fullReason: '2 pod(s) Unschedulable for over 20s: variant full' });
    const input = run({
      models: [
        model([
          [l4, 3, 3],
          [dear, 0, 0],
        ]),
      ],
      inventory: inventory([type(L4, [4]), type(H100, [8])], { [l4.key]: full, [dear.key]: gpu(H100) }),
    });
    expect(desiredOf(input)).toEqual({ 'ns/llama-l4': 1, 'ns/llama-h100': 2 });
    expect(placeModels(input).blocked.has(l4.key)).toBe(true);
  });

  const steady = (over: Partial<PlacementInput> = {}) =>
    run({
      models: [
        model(
          [
            [cheap, 2, 2],
            [dear, 3, 3],
          ],
          { steady: true },
        ),
      ],
      inventory: inventory([type(L4, [2]), type(H100, [8])], { [cheap.key]: gpu(L4), [dear.key]: gpu(H100) }),
      lastBlockedAt: new Map([[cheap.key, NOW - 60_000]]),
      ...over,
    });
  it.each([
    { name: 'room back for the hold: +1 on L4', input: steady(), expected: { 'ns/llama-l4': 3, 'ns/llama-h100': 3 } },
    {
      name: 'blocked too recently (hysteresis): nothing',
      input: steady({ lastBlockedAt: new Map([[cheap.key, NOW - 10_000]]) }),
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 3 },
    },
    {
      name: 'never blocked: nothing (no spill history)',
      input: steady({ lastBlockedAt: new Map() }),
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 3 },
    },
    {
      name: 'not steady: nothing',
      input: {
        ...steady(),
        models: [
          model([
            [cheap, 2, 2],
            [dear, 3, 3],
          ]),
        ],
      },
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 3 },
    },
    {
      name: 'the last move has not taken effect yet: nothing',
      input: steady({
        lastRebalance: new Map([['ns/meta/llama-8b', { at: NOW - 40_000, from: dear.key, fromCurrent: 3 }]]),
      }),
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 3 },
    },
    {
      name: 'the last move took effect: the next one',
      input: steady({
        lastRebalance: new Map([['ns/meta/llama-8b', { at: NOW - 40_000, from: dear.key, fromCurrent: 4 }]]),
      }),
      expected: { 'ns/llama-l4': 3, 'ns/llama-h100': 3 },
    },
    {
      name: 'still no room on L4: nothing',
      input: {
        ...steady(),
        inventory: inventory([type(L4, [0]), type(H100, [8])], { [cheap.key]: gpu(L4), [dear.key]: gpu(H100) }),
      },
      expected: { 'ns/llama-l4': 2, 'ns/llama-h100': 3 },
    },
  ])('$name', ({ input, expected }) => {
    expect(desiredOf(input)).toEqual(expected);
  });

  it('a move back is remembered for the hysteresis', () => {
    const r = placeModels(steady()).models.get('ns/meta/llama-8b');
    expect(r?.rebalance).toEqual({ at: NOW, from: dear.key, fromCurrent: 3 });
    expect(r?.notes.some((n) => n.code === 'placement-return')).toBe(true);
  });
});
