/**
 * CacheKeys: the one key builder for what the scaler keeps in Redis, so every key has one shape,
 * `wva:<kind>:<namespace>/<name>`. The same key names the entry in the local LRU and in Redis,
 * and `prefix()` gives the string `scanRedis` matches (Redis `SCAN MATCH <escaped prefix>*`).
 *
 * `name` may itself contain `/` (a vLLM modelID like `meta-llama/Llama-3.1-8B-Instruct`);
 * `namespace` may not (Kubernetes namespaces are DNS labels), so the first `/` splits them.
 */

export const CACHE_KEY_ROOT = 'wva';

/**
 * The kinds of entries the scaler shares. `lock` keys hold leader-election tokens, `service` keys
 * a variant's learned service model (SLO mode).
 */
export const CACHE_KINDS = ['decision', 'lock', 'service'] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];

export class CacheKeyError extends Error {
  constructor(what: string, value: string, expected: string) {
    super(`invalid cache key ${what} ${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'CacheKeyError';
  }
}

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function checkNamespace(namespace: string): void {
  if (!NAMESPACE_RE.test(namespace) || namespace.length > 253) {
    throw new CacheKeyError('namespace', namespace, 'a Kubernetes namespace (lowercase letters, digits, -, .)');
  }
}

function checkName(name: string): void {
  // Whitespace and control characters would make keys ambiguous in logs and redis-cli.
  if (name === '' || /[\s\p{Cc}]/u.test(name)) {
    throw new CacheKeyError('name', name, 'a non-empty name without whitespace');
  }
}

function checkKind(kind: string): asserts kind is CacheKind {
  if (!(CACHE_KINDS as readonly string[]).includes(kind)) {
    throw new CacheKeyError('kind', kind, `one of ${CACHE_KINDS.join(', ')}`);
  }
}

/** Builders of multi-layer cache keys. Pure functions, no state. */
export const CacheKeys = {
  /** `wva:<kind>:<namespace>/<name>`; throws CacheKeyError on a bad part. */
  build(kind: CacheKind, namespace: string, name: string): string {
    checkKind(kind);
    checkNamespace(namespace);
    checkName(name);
    return `${CACHE_KEY_ROOT}:${kind}:${namespace}/${name}`;
  },

  /** Key of a variant's decision; `variantKey` is `namespace/ScaledObject name`. */
  decision(variantKey: string): string {
    const slash = variantKey.indexOf('/');
    if (slash <= 0) throw new CacheKeyError('variant key', variantKey, 'namespace/name');
    return CacheKeys.build('decision', variantKey.slice(0, slash), variantKey.slice(slash + 1));
  },

  /** Key of a variant's learned service model (SLO mode); `variantKey` is `namespace/name`. */
  service(variantKey: string): string {
    const slash = variantKey.indexOf('/');
    if (slash <= 0) throw new CacheKeyError('variant key', variantKey, 'namespace/name');
    return CacheKeys.build('service', variantKey.slice(0, slash), variantKey.slice(slash + 1));
  },

  /** Key of a leader lock, e.g. `lock('wva-system', 'engine')`. */
  lock(namespace: string, name: string): string {
    return CacheKeys.build('lock', namespace, name);
  },

  /** Prefix of every key of a kind, for `scanRedis`. */
  prefix(kind: CacheKind): string {
    checkKind(kind);
    return `${CACHE_KEY_ROOT}:${kind}:`;
  },
} as const;

/** Escapes Redis glob metacharacters so a literal prefix can be used in `SCAN MATCH`. */
export function escapeRedisGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
