/**
 * Keeps the VariantRegistry in step with one informer (ScaledObjects or VariantAutoscalings):
 * add/update upserts, delete removes, an object that stops being ours (or turns invalid) is
 * removed, and a resync reconciles the registry against the whole cache so a missed event cannot
 * leave a variant behind or out. Only variants of this sync's `source` are ever removed, so a
 * variant registered by GetMetricSpec or another source is left alone. When a ScaledObject and a
 * VariantAutoscaling share a name (a WVA migration), the ScaledObject's variant wins (it carries
 * min/max); the VariantAutoscaling still gets its status written.
 */
import type { VariantRegistry } from '../cache/variant-registry.js';
import type { VariantSource } from '../domain/variant.js';
import type { Logger } from '../observability/logger.js';
import type { InformerHandlers } from './resource-informer.js';
import type { MappedVariant } from './scaledobject-variant.js';
import { refOf } from './object-fields.js';

export class VariantSync<T> implements InformerHandlers<T> {
  /** Last error or deferral reason logged per key, so an unchanged object is logged once. */
  private readonly lastReason = new Map<string, string>();

  constructor(
    private readonly registry: VariantRegistry,
    private readonly source: VariantSource,
    private readonly map: (obj: T) => MappedVariant,
    private readonly logger: Logger,
    private readonly onInvalid: (key: string, error: string) => void = () => undefined,
    /** Sources this sync never overwrites (a ScaledObject beats a VariantAutoscaling of the same name). */
    private readonly yieldTo: readonly VariantSource[] = [],
  ) {}

  onUpsert(obj: T): void {
    const mapped = this.map(obj);
    const ref = refOf(obj);
    const key = ref ? `${ref.namespace}/${ref.name}` : undefined;
    switch (mapped.kind) {
      case 'variant': {
        this.lastReason.delete(mapped.variant.key);
        const existing = this.registry.get(mapped.variant.key);
        if (existing && this.yieldTo.includes(existing.source)) return;
        const result = this.registry.upsert(mapped.variant);
        if (result !== 'unchanged')
          this.logger.info(
            { variant: mapped.variant.key, source: this.source, result },
            'variant registered from Kubernetes',
          );
        return;
      }
      case 'invalid':
        if (this.lastReason.get(mapped.key) !== mapped.error) {
          this.lastReason.set(mapped.key, mapped.error);
          this.logger.error(
            { variant: mapped.key, source: this.source, error: mapped.error },
            'ignoring invalid variant definition',
          );
          this.onInvalid(mapped.key, mapped.error);
        }
        this.removeOwn(mapped.key);
        return;
      case 'deferred':
        // Not an error: GetMetricSpec registers it with KEDA's resolved values. Said once per reason.
        if (this.lastReason.get(mapped.key) !== mapped.why) {
          this.lastReason.set(mapped.key, mapped.why);
          this.logger.info(
            { variant: mapped.key, source: this.source, why: mapped.why },
            'variant left to GetMetricSpec',
          );
        }
        this.removeOwn(mapped.key);
        return;
      case 'ignored':
        if (key) this.removeOwn(key);
        return;
    }
  }

  onDelete(obj: T): void {
    const ref = refOf(obj);
    if (!ref) return;
    const key = `${ref.namespace}/${ref.name}`;
    this.lastReason.delete(key);
    this.removeOwn(key);
  }

  onResync(all: readonly T[]): void {
    const present = new Set<string>();
    for (const obj of all) {
      const ref = refOf(obj);
      if (ref) present.add(`${ref.namespace}/${ref.name}`);
      this.onUpsert(obj);
    }
    for (const v of this.registry.all()) {
      if (v.source === this.source && !present.has(v.key)) this.removeOwn(v.key);
    }
  }

  private removeOwn(key: string): void {
    const existing = this.registry.get(key);
    if (existing && existing.source === this.source) {
      this.registry.remove(key);
      this.logger.info({ variant: key, source: this.source }, 'variant removed');
    }
  }
}
