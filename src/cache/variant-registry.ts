/**
 * VariantRegistry (WVA's VA cache): every variant this scaler knows, by key. Fed by GetMetricSpec
 * registrations, Kubernetes informers and a static file. `ready()` excludes variants being deleted.
 * Listeners hear about every change so the engine can run a new model and caches can invalidate.
 */
import { modelKey, sameVariant, type Variant } from '../domain/variant.js';

export type RegistryChange =
  | { readonly type: 'added' | 'updated'; readonly variant: Variant; readonly previous: Variant | undefined }
  | { readonly type: 'removed'; readonly variant: Variant };

export type UpsertResult = 'added' | 'updated' | 'unchanged';

export class VariantRegistry {
  private readonly variants = new Map<string, Variant>();
  private readonly listeners = new Set<(change: RegistryChange) => void>();

  upsert(variant: Variant): UpsertResult {
    const frozen = Object.freeze({ ...variant, saturation: Object.freeze({ ...variant.saturation }) });
    const previous = this.variants.get(variant.key);
    if (previous && sameVariant(previous, frozen)) return 'unchanged';
    this.variants.set(variant.key, frozen);
    const type = previous ? 'updated' : 'added';
    this.emit({ type, variant: frozen, previous });
    return type;
  }

  remove(key: string): boolean {
    const v = this.variants.get(key);
    if (!v) return false;
    this.variants.delete(key);
    this.emit({ type: 'removed', variant: v });
    return true;
  }

  get(key: string): Variant | undefined {
    return this.variants.get(key);
  }

  all(): Variant[] {
    return [...this.variants.values()];
  }

  ready(): Variant[] {
    return this.all().filter((v) => !v.deleting);
  }

  /** Ready variants grouped by model key (`namespace/modelID`), each group sorted by key. */
  byModel(): Map<string, Variant[]> {
    const out = new Map<string, Variant[]>();
    for (const v of this.ready()) {
      const k = modelKey(v.namespace, v.modelID);
      const list = out.get(k);
      if (list) list.push(v);
      else out.set(k, [v]);
    }
    for (const list of out.values()) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** Ready variants of one model, sorted by key. */
  variantsOfModel(namespace: string, modelID: string): Variant[] {
    return this.ready()
      .filter((v) => v.namespace === namespace && v.modelID === modelID)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get size(): number {
    return this.variants.size;
  }

  onChange(listener: (change: RegistryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: RegistryChange): void {
    for (const l of this.listeners) l(change);
  }
}
