/**
 * WVA_VARIANTS_FILE: a static variant list for running without Kubernetes (and for the demo), so
 * the engine knows every variant before KEDA's first GetMetricSpec. Each entry is a ScaledObject's
 * name and namespace with its trigger metadata, validated exactly like GetMetricSpec's:
 *
 *   variants:
 *   - namespace: llm
 *     name: llama-8b-h100
 *     metadata: { modelID: meta-llama/Llama-3.1-8B-Instruct, accelerator: H100, variantCost: "10" }
 */
import { parse as parseYaml } from 'yaml';
import type { Variant } from '../domain/variant.js';
import { parseTriggerMetadata } from './trigger-metadata.js';

export class VariantsFileError extends Error {}

export function parseVariantsFile(text: string, file = 'variants file'): Variant[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new VariantsFileError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const list =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)['variants']
      : undefined;
  if (!Array.isArray(list)) throw new VariantsFileError(`${file}: expected a top-level "variants:" list`);
  return list.map((raw: unknown, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const where = `${file}: variants[${i}]`;
    if (typeof e['namespace'] !== 'string' || typeof e['name'] !== 'string')
      throw new VariantsFileError(`${where}: expected string fields namespace and name`);
    const md = e['metadata'];
    if (md === null || typeof md !== 'object' || Array.isArray(md))
      throw new VariantsFileError(`${where}: expected a metadata map of trigger metadata`);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(md as Record<string, unknown>)) metadata[k] = String(v);
    try {
      return { ...parseTriggerMetadata(e['namespace'], e['name'], metadata), source: 'static' as const };
    } catch (err) {
      throw new VariantsFileError(`${where}: ${(err as Error).message}`);
    }
  });
}
