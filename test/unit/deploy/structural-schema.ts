/**
 * Validates an object against a CRD's openAPIV3Schema as the API server does, for the keywords
 * the CRDs here use: type, required, properties, enum, pattern, minLength, maxLength, minimum, and
 * unknown fields (refused unless x-kubernetes-preserve-unknown-fields: kubectl validates strictly).
 * apiVersion, kind and metadata at the root are always allowed, as for every object.
 */
export interface Schema {
  readonly type?: string;
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** Every violation as `path: what`; empty when valid. */
export function schemaErrors(value: unknown, schema: Schema, path = ''): string[] {
  const at = path || '(root)';
  const kind = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (schema.type !== undefined && kind !== schema.type && !(schema.type === 'number' && kind === 'integer')) {
    return [`${at}: expected ${schema.type}, got ${JSON.stringify(value)}`];
  }
  const errors: string[] = [];
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value))
      errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      errors.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum)
    errors.push(`${at}: below ${schema.minimum}`);
  if (kind === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errors.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) errors.push(...schemaErrors(v, sub, `${path}.${k}`));
      else if (!(path === '' && ROOT_FIELDS.has(k)) && schema['x-kubernetes-preserve-unknown-fields'] !== true)
        errors.push(`${path}.${k}: unknown field`);
    }
  }
  return errors;
}
