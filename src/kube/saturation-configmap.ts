/**
 * The saturation ConfigMap (WVA's `wva-saturation-scaling-config` format), live: every add or
 * update is parsed and validated; a good one replaces GlobalConfig's saturation config, a bad one
 * keeps the last good config, is logged and counted (wva_scaler_config_errors_total{source=
 * "configmap"}). Deleting the ConfigMap returns to the built-in defaults, as if it never existed.
 */
import type { GlobalConfig } from '../cache/global-config.js';
import { EMPTY_SATURATION_CONFIG, parseSaturationConfig } from '../config/saturation-config.js';
import type { Logger } from '../observability/logger.js';
import type { ScalerMetrics } from '../observability/metrics.js';
import { asRecord, field, str } from './object-fields.js';
import type { InformerHandlers } from './resource-informer.js';

export class SaturationConfigMapHandler<T> implements InformerHandlers<T> {
  private lastResourceVersion: string | undefined;

  constructor(
    private readonly name: string,
    private readonly globalConfig: GlobalConfig,
    private readonly metrics: ScalerMetrics,
    private readonly logger: Logger,
  ) {}

  onUpsert(obj: T): void {
    if (str(obj, 'metadata', 'name') !== this.name) return;
    const rv = str(obj, 'metadata', 'resourceVersion');
    if (rv !== undefined && rv === this.lastResourceVersion) return;
    this.lastResourceVersion = rv;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(field(obj, 'data')) ?? {})) if (typeof v === 'string') data[k] = v;
    try {
      const saturation = parseSaturationConfig(data);
      this.globalConfig.update({ saturation });
      this.metrics.configReloads.inc({ source: 'configmap' });
      this.logger.info(
        { configMap: this.name, entries: saturation.entries.length, resourceVersion: rv },
        'saturation config loaded from ConfigMap',
      );
    } catch (err) {
      this.metrics.configErrors.inc({ source: 'configmap' });
      this.logger.error(
        { configMap: this.name, err: err instanceof Error ? err.message : String(err) },
        'invalid saturation ConfigMap; keeping the last good config',
      );
    }
  }

  onDelete(obj: T): void {
    if (str(obj, 'metadata', 'name') !== this.name) return;
    this.lastResourceVersion = undefined;
    this.globalConfig.update({ saturation: EMPTY_SATURATION_CONFIG });
    this.logger.warn({ configMap: this.name }, 'saturation ConfigMap deleted; using built-in defaults');
  }
}
