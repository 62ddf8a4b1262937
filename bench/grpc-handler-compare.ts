/**
 * The GetMetrics handler of this tree against the handler of another checkout, in one process:
 * CPU time per call (`process.cpuUsage`, user + system), rounds interleaved so that whatever else
 * the machine runs hits both trees alike. End-to-end gRPC figures on a shared 2-core machine move
 * by more than the handler costs; this is the comparison that can show a regression of our code.
 *
 *   npx tsx bench/grpc-handler-compare.ts --before /path/to/other/checkout [--rounds 15] [--calls 200000]
 *
 * The other checkout needs the same module layout for the handler's collaborators; where trigger
 * metadata was parsed in `src/grpc/metadata.ts` (before the move to `src/config/`) that is found too.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDecision } from './lib/bench-decisions.js';

const VARIANTS = 1000;

interface Args {
  readonly before: string;
  readonly rounds: number;
  readonly calls: number;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const before = get('before');
  if (!before) throw new Error('--before <checkout> is required: the tree whose handler is the baseline');
  const rounds = Number(get('rounds') ?? 15);
  const calls = Number(get('calls') ?? 200_000);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds expects a positive integer, got ${rounds}`);
  if (!Number.isInteger(calls) || calls < 1000) throw new Error(`--calls expects an integer >= 1000, got ${calls}`);
  return { before: resolve(before), rounds, calls };
}

type Handler = (call: unknown, cb: () => void) => void;

interface Module<T> {
  readonly [name: string]: T;
}

async function load<T>(root: string, ...candidates: string[]): Promise<Module<T>> {
  for (const c of candidates) {
    const path = join(root, c);
    if (existsSync(path)) return (await import(pathToFileURL(path).href)) as Module<T>;
  }
  throw new Error(`${root}: none of ${candidates.join(', ')} exists`);
}

type Ctor = new (...args: unknown[]) => unknown;

/** The handler of the tree at `root`, over 1,000 registered variants with decisions. */
async function handlerOf(root: string): Promise<Handler> {
  const ctor = async (file: string, name: string): Promise<Ctor> => (await load<Ctor>(root, file))[name] as Ctor;
  const Registry = await ctor('src/cache/variant-registry.ts', 'VariantRegistry');
  const Decisions = await ctor('src/cache/decision-cache.ts', 'DecisionCache');
  const Trigger = await ctor('src/cache/decision-trigger.ts', 'DecisionTrigger');
  const Metrics = await ctor('src/observability/metrics.ts', 'ScalerMetrics');
  const Streams = await ctor('src/grpc/active-streams.ts', 'ActiveStreams');
  const Waiter = await ctor('src/grpc/decision-waiter.ts', 'DecisionWaiter');
  const Service = await ctor('src/grpc/external-scaler.ts', 'ExternalScalerService');
  const parse = (
    await load<(ns: string, name: string, md: Record<string, string>) => { key: string }>(
      root,
      'src/config/trigger-metadata.ts',
      'src/grpc/metadata.ts',
    )
  )['parseTriggerMetadata'];
  const silentLogger = (await load<() => unknown>(root, 'src/observability/logger.ts'))['silentLogger'];
  if (!parse || !silentLogger) throw new Error(`${root}: parseTriggerMetadata or silentLogger not found`);

  const registry = new Registry() as { upsert(v: unknown): void };
  const decisions = new Decisions() as { set(d: unknown): void };
  const trigger = new Trigger();
  for (let i = 0; i < VARIANTS; i++) {
    const v = parse(`ns-${i % 10}`, `variant-${i}`, { modelID: `model-${Math.floor(i / 5)}` }) as {
      key: string;
      namespace: string;
      name: string;
      modelID: string;
    };
    registry.upsert(v);
    decisions.set(benchDecision(v, i));
  }
  const streams = new Streams(trigger, { onOpenCountChange: () => undefined, onPush: () => undefined });
  const service = new Service({
    registry,
    decisions,
    source: new Waiter(decisions, trigger),
    streams,
    metrics: new Metrics(),
    logger: silentLogger(),
    firstDecisionDeadlineMs: 2000,
  }) as { handlers(): Record<string, unknown> };
  const handler = service.handlers()['GetMetrics'];
  if (typeof handler !== 'function') throw new Error(`${root}: ExternalScalerService has no GetMetrics handler`);
  return handler as Handler;
}

function cpuNsPerCall(handler: Handler, calls: number): number {
  const requests = Array.from({ length: VARIANTS }, (_, i) => ({
    request: {
      scaledObjectRef: { name: `variant-${i}`, namespace: `ns-${i % 10}`, scalerMetadata: {} },
      metricName: 'wva-desired-replicas',
    },
  }));
  const cb = (): undefined => undefined;
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) handler(requests[i % VARIANTS], cb);
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / calls;
}

const args = parseArgs(process.argv.slice(2));
const here = resolve(import.meta.dirname, '..');
const trees = [
  { name: 'before', handler: await handlerOf(args.before) },
  { name: 'this tree', handler: await handlerOf(here) },
];
for (const t of trees) cpuNsPerCall(t.handler, args.calls); // warm-up: JIT both before timing either
const samples = new Map(trees.map((t) => [t.name, [] as number[]]));
for (let r = 0; r < args.rounds; r++) {
  const order = r % 2 === 0 ? trees : [...trees].reverse();
  for (const t of order) samples.get(t.name)?.push(cpuNsPerCall(t.handler, args.calls));
}
for (const [name, xs] of samples) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number): string => (sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN).toFixed(0);
  console.log(
    `${name}: CPU ns per GetMetrics call, lowest ${at(0)}, median ${at(0.5)}, highest ${at(1)} (${xs.length} rounds)`,
  );
}
