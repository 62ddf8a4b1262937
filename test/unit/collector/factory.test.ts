import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../../src/config/settings.js';
import { chooseBackend, createMetricsCollector } from '../../../src/collector/factory.js';
import { silentLogger } from '../../../src/observability/logger.js';

describe('createMetricsCollector', () => {
  it('auto picks prometheus when PROMETHEUS_BASE_URL is set, else scrape', () => {
    expect(chooseBackend(defaultSettings({ PROMETHEUS_BASE_URL: 'http://prom:9090' }))).toBe('prometheus');
    expect(chooseBackend(defaultSettings({ WVA_SCRAPE_TARGETS: 'http://pod:8000/metrics' }))).toBe('scrape');
    expect(
      chooseBackend(defaultSettings({ WVA_METRICS_BACKEND: 'scrape', PROMETHEUS_BASE_URL: 'http://prom:9090' })),
    ).toBe('scrape');
  });

  it('builds the chosen backend with a memory cache', async () => {
    const built = createMetricsCollector(defaultSettings({ PROMETHEUS_BASE_URL: 'http://127.0.0.1:1' }), {
      logger: silentLogger(),
    });
    expect(built.collector.backend).toBe('prometheus');
    expect(built.cache.kind).toBe('memory');
    await built.collector.close();
    const scrape = createMetricsCollector(defaultSettings({ WVA_SCRAPE_TARGETS: 'http://127.0.0.1:1/metrics' }), {
      logger: silentLogger(),
    });
    expect(scrape.collector.backend).toBe('scrape');
  });

  it('says what is missing', () => {
    expect(() =>
      createMetricsCollector(defaultSettings({ WVA_METRICS_BACKEND: 'prometheus' }), { logger: silentLogger() }),
    ).toThrow(/PROMETHEUS_BASE_URL/);
    expect(() => createMetricsCollector(defaultSettings(), { logger: silentLogger() })).toThrow(/WVA_SCRAPE_TARGETS/);
  });
});
