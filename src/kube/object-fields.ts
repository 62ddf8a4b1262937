/**
 * Narrow readers for untyped Kubernetes objects (custom resources arrive as plain JSON): each
 * returns undefined instead of throwing when a field is absent or of the wrong type.
 */
export type Json = Record<string, unknown>;

export function asRecord(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

export function field(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    const r = asRecord(cur);
    if (!r) return undefined;
    cur = r[p];
  }
  return cur;
}

export function str(obj: unknown, ...path: string[]): string | undefined {
  const v = field(obj, ...path);
  return typeof v === 'string' ? v : undefined;
}

export function int(obj: unknown, ...path: string[]): number | undefined {
  const v = field(obj, ...path);
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** namespace/name of an object, or undefined when its metadata lacks either. */
export function refOf(obj: unknown): ObjectRef | undefined {
  const name = str(obj, 'metadata', 'name');
  const namespace = str(obj, 'metadata', 'namespace');
  return name && namespace ? { namespace, name } : undefined;
}

/** Set while the object is being deleted (finalizers still running). */
export function isDeleting(obj: unknown): boolean {
  return (
    field(obj, 'metadata', 'deletionTimestamp') !== undefined && field(obj, 'metadata', 'deletionTimestamp') !== null
  );
}

/** The controller owner reference of a given kind, if any. */
export function controllerOwner(obj: unknown, kind: string): string | undefined {
  const refs = field(obj, 'metadata', 'ownerReferences');
  if (!Array.isArray(refs)) return undefined;
  for (const r of refs) {
    if (str(r, 'kind') === kind && (field(r, 'controller') === true || field(r, 'controller') === undefined)) {
      const name = str(r, 'name');
      if (name) return name;
    }
  }
  return undefined;
}
