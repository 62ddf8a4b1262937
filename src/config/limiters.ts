/**
 * WVA v0.9's `limiters:` list, from the saturation ConfigMap's `default` entry, validated as WVA
 * validates it (llm-d WVA docs/developer-guide/quota-limiter.md, "Validation"; its
 * QuotaLimiterEntries.Validate): a `quota` entry has a unique non-empty `name`, a `scope` of
 * `cluster` (with `quotas`) or `namespace` (with `namespaceQuotas` and optional `exclude`); a cap
 * is -1 (unlimited) or a whole number up to 1,048,576 (WVA's MaxQuotaValue); an accelerator type
 * or namespace key is never empty. A `{type: gpu-inventory}` (alias `inventory`) entry selects
 * WVA's physical limiter, which this scaler always applies where it can see the nodes.
 *
 * One difference, on purpose: WVA uses one mode (a `quota` entry makes it ignore the physical
 * inventory; composing the two is its open issue #1003). Here both apply: a replica must fit on a
 * node and within every quota.
 */
import type { ClusterQuota, NamespaceQuota, QuotaLimiter } from '../domain/gpu.js';
import { quoteValue } from './scalars.js';

/** WVA's MaxQuotaValue (1 << 20). */
export const MAX_QUOTA_VALUE = 1 << 20;

export class LimiterConfigError extends Error {
  constructor(
    readonly entry: string,
    readonly path: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`saturation config entry "${entry}": limiters${path}=${quoteValue(value)} is invalid: expected ${expected}`);
    this.name = 'LimiterConfigError';
  }
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function cap(entry: string, path: string, raw: unknown): number {
  const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > MAX_QUOTA_VALUE)
    throw new LimiterConfigError(
      entry,
      path,
      raw,
      `-1 (unlimited), 0 (denied) or a whole number of GPUs up to ${MAX_QUOTA_VALUE}`,
    );
  return n;
}

function typeCaps(entry: string, path: string, raw: unknown): Map<string, number> {
  if (!isMap(raw)) throw new LimiterConfigError(entry, path, raw, 'a map of accelerator type -> GPUs');
  const out = new Map<string, number>();
  for (const [type, v] of Object.entries(raw)) {
    if (type.trim() === '') throw new LimiterConfigError(entry, path, type, 'a non-empty accelerator type');
    out.set(type, cap(entry, `${path}.${type}`, v));
  }
  return out;
}

const QUOTA_FIELDS: Readonly<Record<'cluster' | 'namespace', readonly string[]>> = {
  cluster: ['type', 'name', 'scope', 'quotas'],
  namespace: ['type', 'name', 'scope', 'namespaceQuotas', 'exclude'],
};

function quotaEntry(entry: string, path: string, raw: Json): QuotaLimiter {
  const name = raw['name'];
  if (typeof name !== 'string' || name.trim() === '')
    throw new LimiterConfigError(entry, `${path}.name`, name, 'a non-empty name');
  const scope = raw['scope'];
  if (scope !== 'cluster' && scope !== 'namespace')
    throw new LimiterConfigError(entry, `${path}.scope`, scope, '"cluster" or "namespace"');
  for (const k of Object.keys(raw))
    if (!QUOTA_FIELDS[scope].includes(k))
      throw new LimiterConfigError(
        entry,
        `${path}.${k}`,
        raw[k],
        `no ${k} on a ${scope}-scoped quota (its fields: ${QUOTA_FIELDS[scope].join(', ')})`,
      );
  if (scope === 'cluster') {
    const q: ClusterQuota = { name, scope, quotas: typeCaps(entry, `${path}.quotas`, raw['quotas'] ?? {}) };
    return q;
  }
  const nsRaw = raw['namespaceQuotas'] ?? {};
  if (!isMap(nsRaw))
    throw new LimiterConfigError(entry, `${path}.namespaceQuotas`, nsRaw, 'a map of namespace -> (type -> GPUs)');
  const namespaceQuotas = new Map<string, Map<string, number>>();
  for (const [ns, caps] of Object.entries(nsRaw)) {
    if (ns.trim() === '') throw new LimiterConfigError(entry, `${path}.namespaceQuotas`, ns, 'a non-empty namespace');
    namespaceQuotas.set(ns, typeCaps(entry, `${path}.namespaceQuotas.${ns}`, caps));
  }
  const exRaw = raw['exclude'] ?? [];
  if (!Array.isArray(exRaw) || exRaw.some((x) => typeof x !== 'string' || x.trim() === ''))
    throw new LimiterConfigError(entry, `${path}.exclude`, exRaw, 'a list of namespace names');
  const q: NamespaceQuota = { name, scope, namespaceQuotas, exclude: new Set(exRaw as string[]) };
  return q;
}

/** Parses a `limiters:` value; throws LimiterConfigError naming the entry, the path and what is expected. */
export function parseLimiters(entry: string, raw: unknown): QuotaLimiter[] {
  if (!Array.isArray(raw))
    throw new LimiterConfigError(
      entry,
      '',
      raw,
      'a list of limiter entries ({type: quota, ...} or {type: gpu-inventory})',
    );
  const out: QuotaLimiter[] = [];
  const names = new Set<string>();
  (raw as unknown[]).forEach((item, i) => {
    const path = `[${i}]`;
    if (!isMap(item)) throw new LimiterConfigError(entry, path, item, 'a map with a type');
    const type = item['type'];
    if (type === 'gpu-inventory' || type === 'inventory') {
      const extra = Object.keys(item).filter((k) => k !== 'type' && k !== 'name');
      if (extra.length > 0)
        throw new LimiterConfigError(
          entry,
          `${path}.${extra[0]}`,
          item[extra[0] ?? ''],
          'no other field on a gpu-inventory entry',
        );
      return;
    }
    if (type !== 'quota')
      throw new LimiterConfigError(entry, `${path}.type`, type, '"quota" or "gpu-inventory" (alias "inventory")');
    const q = quotaEntry(entry, path, item);
    if (names.has(q.name)) throw new LimiterConfigError(entry, `${path}.name`, q.name, 'a name no other entry uses');
    names.add(q.name);
    out.push(q);
  });
  return out;
}
