/**
 * The example manifests parse, and every ScaledObject in them that points at wva-scaler is a
 * valid variant for the scaler (the same mapping the informer uses), and every VariantAutoscaling
 * too; the plain manifests are the chart rendered with its default values (and a placeholder
 * Prometheus URL, without which the scaler would not start).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createMetricsCollector } from '../../../src/collector/factory.js';
import { defaultSettings } from '../../../src/config/settings.js';
import { variantFromScaledObject } from '../../../src/kube/scaledobject-variant.js';
import { variantFromVariantAutoscaling } from '../../../src/kube/variantautoscaling-variant.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { helmTemplate, MANIFEST_PATH, MANIFEST_PROMETHEUS_URL, renderChartManifest } from './helm.js';
import { nonStringEnvValues, parseAsKubectl } from './kube-yaml.js';
import { schemaErrors, type Schema } from './structural-schema.js';

const DEPLOY = join(import.meta.dirname, '../../../deploy');
const docsOf = (path: string): Record<string, unknown>[] =>
  parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      expect(d.errors, path).toEqual([]);
      return d.toJS() as Record<string, unknown>;
    })
    .filter((d) => d !== null);

describe('deploy/examples', () => {
  const files = readdirSync(join(DEPLOY, 'examples')).filter((f) => f.endsWith('.yaml'));

  it('every ScaledObject and VariantAutoscaling is a valid variant for the scaler', () => {
    const keys: string[] = [];
    for (const f of files) {
      for (const doc of docsOf(join(DEPLOY, 'examples', f))) {
        if (doc['kind'] === 'ScaledObject') {
          const m = variantFromScaledObject(doc, 'wva-scaler');
          expect(m.kind, `${f}: ${JSON.stringify(m)}`).toBe('variant');
          if (m.kind === 'variant') keys.push(m.variant.key);
        }
        if (doc['kind'] === 'VariantAutoscaling') expect(variantFromVariantAutoscaling(doc).kind, f).toBe('variant');
      }
    }
    // known-peaks-cron.yaml replaces the ScaledObject of vllm-llama-8b.yaml (same name): its key twice.
    expect(keys.sort()).toEqual([
      'llm/llama-70b-a100',
      'llm/llama-70b-h100',
      'llm/llama-8b-h100',
      'llm/llama-8b-h100',
      'llm/qwen-7b-l4',
    ]);
  });

  it('the two-variant model has one modelID, two accelerators and different costs', () => {
    const variants = docsOf(join(DEPLOY, 'examples/two-variants.yaml'))
      .filter((d) => d['kind'] === 'ScaledObject')
      .map((d) => variantFromScaledObject(d, 'wva-scaler'))
      .flatMap((m) => (m.kind === 'variant' ? [m.variant] : []));
    expect(new Set(variants.map((v) => v.modelID)).size).toBe(1);
    expect(variants.map((v) => [v.accelerator, v.cost]).sort()).toEqual([
      ['A100', 25],
      ['H100', 40],
    ]);
  });

  it('the main example uses external-push with fallback and a one-pod step policy both ways', () => {
    const so = docsOf(join(DEPLOY, 'examples/vllm-llama-8b.yaml')).find((d) => d['kind'] === 'ScaledObject') as {
      spec: {
        fallback: unknown;
        triggers: { type: string }[];
        advanced: {
          horizontalPodAutoscalerConfig: { behavior: Record<string, { policies: { type: string; value: number }[] }> };
        };
      };
    };
    expect(so.spec.triggers[0]?.type).toBe('external-push');
    expect(so.spec.fallback).toMatchObject({ failureThreshold: 3, replicas: 2 });
    const b = so.spec.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(b['scaleUp']?.policies).toContainEqual(expect.objectContaining({ type: 'Pods', value: 1 }));
    expect(b['scaleDown']?.policies).toContainEqual(expect.objectContaining({ type: 'Pods', value: 1 }));
  });

  it('known peaks: our trigger and a cron trigger whose window opens before its peak, in one ScaledObject', () => {
    type So = {
      metadata: { name: string };
      spec: { scaleTargetRef: { name: string }; triggers: { type: string; metadata: Record<string, string> }[] };
    };
    const so = docsOf(join(DEPLOY, 'examples/known-peaks-cron.yaml')).find((d) => d['kind'] === 'ScaledObject') as So;
    const main = docsOf(join(DEPLOY, 'examples/vllm-llama-8b.yaml')).find((d) => d['kind'] === 'ScaledObject') as So;
    // Same name and target as the main example: applying it replaces that ScaledObject instead of
    // adding a second one on the same Deployment (KEDA's admission webhook refuses that).
    expect([so.metadata.name, so.spec.scaleTargetRef.name]).toEqual([
      main.metadata.name,
      main.spec.scaleTargetRef.name,
    ]);
    expect(so.spec.triggers.map((t) => t.type)).toEqual(['external-push', 'cron']);
    const cron = so.spec.triggers[1]?.metadata ?? {};
    // KEDA's cron scaler requires all four; desiredReplicas is an integer string.
    expect(Object.keys(cron).sort()).toEqual(['desiredReplicas', 'end', 'start', 'timezone']);
    expect(cron['desiredReplicas']).toMatch(/^[1-9][0-9]*$/);
    const [startMin, startHour] = (cron['start'] ?? '').split(' ').map(Number);
    const [endMin, endHour] = (cron['end'] ?? '').split(' ').map(Number);
    expect(cron['start']).not.toBe(cron['end']);
    expect((startHour ?? 0) * 60 + (startMin ?? 0)).toBeLessThan((endHour ?? 0) * 60 + (endMin ?? 0));
  });

  it('scale to zero sets minReplicaCount 0', () => {
    const so = docsOf(join(DEPLOY, 'examples/scale-to-zero-gateway.yaml')).find(
      (d) => d['kind'] === 'ScaledObject',
    ) as { spec: { minReplicaCount: number } };
    expect(so.spec.minReplicaCount).toBe(0);
    const m = variantFromScaledObject(so, 'wva-scaler');
    expect(m.kind === 'variant' && m.variant.scaleToZero).toBe(true);
  });
});

/**
 * The spec schema of WVA's VariantAutoscaling CRD (llm-d/llm-d-workload-variant-autoscaler,
 * config/crd/bases/llmd.ai_variantautoscalings.yaml, v1alpha1), reduced to what the validator
 * checks. It keeps no unknown spec fields, so kubectl's strict validation refuses extra ones.
 */
const WVA_VARIANT_AUTOSCALING: Schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['accelerator', 'acceleratorCount', 'modelID', 'scaleTargetRef', 'variantID'],
      properties: {
        accelerator: { type: 'string', minLength: 1, maxLength: 64 },
        acceleratorCount: { type: 'integer', minimum: 1 },
        modelID: { type: 'string', minLength: 1, maxLength: 128 },
        scaleTargetRef: {
          type: 'object',
          required: ['kind', 'name'],
          properties: {
            apiVersion: { type: 'string', minLength: 1 },
            kind: { type: 'string', enum: ['Deployment'] },
            name: { type: 'string', minLength: 1 },
          },
        },
        sloClassRef: {
          type: 'object',
          required: ['key', 'name'],
          properties: { key: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
        },
        variantCost: { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
        variantID: { type: 'string', minLength: 1, maxLength: 256, pattern: '^.+-[A-Za-z0-9_-]+-[1-9][0-9]*$' },
        variantProfile: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

/** The optional CRD of our chart (crds.variantAutoscaling), rendered by helm. */
async function chartVariantAutoscalingSchema(): Promise<Schema> {
  const text = await helmTemplate([
    { settings: { prometheusUrl: MANIFEST_PROMETHEUS_URL }, crds: { variantAutoscaling: true } },
  ]);
  const crd = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string } | null)
    .find((d) => d?.kind === 'CustomResourceDefinition') as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  return crd.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema;
}

describe('deploy/examples/variantautoscaling.yaml', () => {
  const docs = docsOf(join(DEPLOY, 'examples/variantautoscaling.yaml')).filter(
    (d) => d['kind'] === 'VariantAutoscaling',
  );
  let ours: Schema;
  beforeAll(async () => {
    ours = await chartVariantAutoscalingSchema();
  });

  it("is valid against WVA's CRD and against the chart's own", () => {
    expect(docs).toHaveLength(1);
    for (const va of docs) {
      expect(schemaErrors(va, WVA_VARIANT_AUTOSCALING), 'WVA CRD').toEqual([]);
      expect(schemaErrors(va, ours), 'chart CRD').toEqual([]);
    }
    // The validator itself: the example as it was (no accelerator, acceleratorCount, variantID) is refused.
    const {
      accelerator: _a,
      acceleratorCount: _c,
      variantID: _v,
      ...old
    } = (docs[0]!['spec'] ?? {}) as Record<string, unknown>;
    expect(schemaErrors({ ...docs[0], spec: old }, WVA_VARIANT_AUTOSCALING)).toEqual([
      '.spec.accelerator: required',
      '.spec.acceleratorCount: required',
      '.spec.variantID: required',
    ]);
  });

  it('is the variant it describes for the scaler', () => {
    const m = variantFromVariantAutoscaling(docs[0]);
    expect(
      m.kind === 'variant' && [
        m.variant.key,
        m.variant.modelID,
        m.variant.accelerator,
        m.variant.cost,
        m.variant.deployment,
      ],
    ).toEqual(['llm/llama-8b-a100', 'meta-llama/Llama-3.1-8B-Instruct', 'A100', 20, 'llama-8b-a100']);
  });
});

describe('deploy/manifests', () => {
  it('are the chart rendered by helm with its default values and the placeholder Prometheus URL (npm run manifests)', async () => {
    expect(readFileSync(MANIFEST_PATH, 'utf8')).toBe(await renderChartManifest());
  });

  it('the Deployment starts: it names a Prometheus, marked as a placeholder to change', () => {
    const text = readFileSync(join(DEPLOY, 'manifests/wva-scaler.yaml'), 'utf8');
    const deployment = parseAsKubectl(text).find((d) => (d as { kind?: string }).kind === 'Deployment') as {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    const env = Object.fromEntries(
      deployment.spec.template.spec.containers[0]!.env.flatMap((e) =>
        e.value === undefined ? [] : [[e.name, e.value]],
      ),
    );
    expect(env['PROMETHEUS_BASE_URL']).toBe(MANIFEST_PROMETHEUS_URL);
    expect(text).toMatch(/# Placeholder: change to your Prometheus.*\n\s*- name: PROMETHEUS_BASE_URL/);
    // Without a metrics source the scaler exits at start-up; with these settings it builds one.
    expect(createMetricsCollector(defaultSettings(env), { logger: silentLogger() }).backend).toBe('prometheus');
  });

  it('every env value is a string as kubectl reads it (YAML 1.1: a plain `on` is a boolean)', () => {
    const docs = parseAsKubectl(readFileSync(join(DEPLOY, 'manifests/wva-scaler.yaml'), 'utf8'));
    expect(docs.some((d) => (d as { kind?: string }).kind === 'Deployment')).toBe(true);
    expect(docs.flatMap((d) => nonStringEnvValues(d))).toEqual([]);
  });
});
