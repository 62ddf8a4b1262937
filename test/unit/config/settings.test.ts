import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config/duration.js';
import { defaultSettings, loadSettings, redactedSettings, SettingsError } from '../../../src/config/settings.js';

describe('settings', () => {
  it('has the documented defaults', () => {
    const s = defaultSettings();
    expect(s.WVA_GRPC_PORT).toBe(9090);
    expect(s.WVA_HTTP_PORT).toBe(8080);
    expect(s.WVA_ENGINE_INTERVAL).toBe(15_000);
    expect(s.WVA_METRICS_CACHE_TTL).toBe(30_000);
    expect(s.WVA_FETCH_INTERVAL).toBe(15_000);
    expect(s.WVA_PROMETHEUS_QUERY_TIMEOUT).toBe(10_000);
    expect(s.PROMETHEUS_BASE_URL).toBeUndefined();
    expect(s.WVA_TLS_CERT_FILE).toBeUndefined();
    expect(s.LOG_LEVEL).toBe('info');
    expect(s.WVA_SCRAPE_TARGETS).toEqual([]);
  });

  it('reads the environment and lets flags of the same name win', () => {
    const s = loadSettings({ WVA_GRPC_PORT: '7000', LOG_LEVEL: 'debug' }, ['--WVA_GRPC_PORT=7001', '--wva-http-port', '7002']);
    expect(s.WVA_GRPC_PORT).toBe(7001);
    expect(s.WVA_HTTP_PORT).toBe(7002);
    expect(s.LOG_LEVEL).toBe('debug');
  });

  it.each([
    ['WVA_GRPC_PORT', 'abc', 'TCP port'],
    ['WVA_GRPC_PORT', '70000', 'TCP port'],
    ['WVA_ENGINE_INTERVAL', '15', 'duration'],
    ['WVA_ENGINE_INTERVAL', '0s', 'above zero'],
    ['PROMETHEUS_BASE_URL', 'prometheus:9090', 'http(s)://'],
    ['WVA_SCRAPE_TARGETS', 'http://a/metrics,ftp://b', 'comma-separated'],
    ['LOG_LEVEL', 'verbose', 'one of'],
    ['WVA_SCALE_TO_ZERO', 'maybe', 'true or false'],
    ['WVA_MAX_SCALE_UP_RATE', '0', 'above zero'],
    ['REDIS_URL', 'localhost:6379', 'redis://'],
  ])('rejects %s=%s with one line naming the setting', (name, value, expected) => {
    let err: unknown;
    try {
      loadSettings({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as Error).message).toContain(name);
    expect((err as Error).message).toContain(expected);
    expect((err as Error).message).not.toContain('\n');
  });

  it('never shows secrets, not even in errors', () => {
    const s = loadSettings({ PROMETHEUS_BEARER_TOKEN: 'sekrit', REDIS_URL: 'redis://:pw@127.0.0.1:6379' });
    expect(JSON.stringify(redactedSettings(s))).not.toContain('sekrit');
    expect(JSON.stringify(redactedSettings(s))).not.toContain('pw@');
    expect(() => loadSettings({ REDIS_URL: 'pw-in-here' })).toThrow(/<redacted>/);
  });

  it('rejects unknown flags', () => {
    expect(() => loadSettings({}, ['--grpc-prot=1'])).toThrow(/a known flag/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500], ['15s', 15_000], ['10m', 600_000], ['1h30m', 5_400_000], ['1.5s', 1500], ['0', 0],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '10', 's', '10 m', '-1s', '1d'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});
