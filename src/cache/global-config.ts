/**
 * GlobalConfig: engine interval, saturation config and scale-to-zero defaults as one immutable
 * snapshot, swapped atomically so a reader never sees half an update.
 */
import { EMPTY_SATURATION_CONFIG, type SaturationConfig } from '../config/saturation-config.js';
import type { EngineFeatures } from '../domain/engine-features.js';
import type { ScaleToZeroConfig } from '../domain/saturation.js';

export interface GlobalConfigSnapshot {
  readonly version: number;
  readonly engineIntervalMs: number;
  readonly maxScaleUpRate: number;
  readonly saturation: SaturationConfig;
  readonly scaleToZero: ScaleToZeroConfig;
  /** The engine's switchable behaviours; absent = every one on (DEFAULT_ENGINE_FEATURES). */
  readonly features?: EngineFeatures;
}

export type GlobalConfigInit = Omit<GlobalConfigSnapshot, 'version' | 'saturation'> & { saturation?: SaturationConfig };

export class GlobalConfig {
  private snapshot: GlobalConfigSnapshot;
  private readonly listeners = new Set<(s: GlobalConfigSnapshot) => void>();

  constructor(init: GlobalConfigInit) {
    this.snapshot = Object.freeze({ ...init, saturation: init.saturation ?? EMPTY_SATURATION_CONFIG, version: 1 });
  }

  get(): GlobalConfigSnapshot {
    return this.snapshot;
  }

  update(patch: Partial<Omit<GlobalConfigSnapshot, 'version'>>): GlobalConfigSnapshot {
    this.snapshot = Object.freeze({ ...this.snapshot, ...patch, version: this.snapshot.version + 1 });
    for (const l of this.listeners) l(this.snapshot);
    return this.snapshot;
  }

  onChange(listener: (s: GlobalConfigSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
