/**
 * YAML as kubectl reads it: sigs.k8s.io/yaml follows YAML 1.1, where plain `on`, `off`, `yes`,
 * `no`, `y`, `n` are booleans and `0755` is octal. The `yaml` package defaults to 1.2, where they
 * are strings, so a check with the default parser would pass a manifest kubectl rejects.
 */
import { parseAllDocuments } from 'yaml';

export function parseAsKubectl(text: string): unknown[] {
  return parseAllDocuments(text, { version: '1.1' }).flatMap((d) => {
    if (d.errors.length > 0) throw new Error(d.errors[0]?.message);
    const js = d.toJS() as unknown;
    return js === null ? [] : [js];
  });
}

/** `path: value` of every EnvVar `value` anywhere in `doc` that is not a string (EnvVar.value is a string). */
export function nonStringEnvValues(doc: unknown, path = ''): string[] {
  if (Array.isArray(doc)) return doc.flatMap((d, i) => nonStringEnvValues(d, `${path}[${i}]`));
  if (doc === null || typeof doc !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === 'env' && Array.isArray(v)) {
      for (const e of v as unknown[]) {
        const { name, value } = (e ?? {}) as { name?: unknown; value?: unknown };
        if (value !== undefined && typeof value !== 'string')
          out.push(`${path}.env[${String(name)}]: ${JSON.stringify(value)}`);
      }
    }
    out.push(...nonStringEnvValues(v, `${path}.${k}`));
  }
  return out;
}
