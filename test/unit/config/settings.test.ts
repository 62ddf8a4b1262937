import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config/duration.js';
import {
  defaultSettings,
  loadSettings,
  redactedSettings,
  redactUrl,
  SETTING_SPECS,
  SettingsError,
  type SettingName,
} from '../../../src/config/settings.js';

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
    const s = loadSettings({ WVA_GRPC_PORT: '7000', LOG_LEVEL: 'debug' }, [
      '--WVA_GRPC_PORT=7001',
      '--wva-http-port',
      '7002',
    ]);
    expect(s.WVA_GRPC_PORT).toBe(7001);
    expect(s.WVA_HTTP_PORT).toBe(7002);
    expect(s.LOG_LEVEL).toBe('debug');
  });

  it.each([
    ['WVA_GRPC_PORT', 'abc', 'TCP port'],
    ['WVA_GRPC_PORT', '70000', 'TCP port'],
    ['WVA_ENGINE_INTERVAL', '15', 'duration'],
    ['WVA_ENGINE_INTERVAL', '0s', 'a duration from 100ms to 1h'],
    ['WVA_ENGINE_INTERVAL', '720h', 'a duration from 100ms to 1h'],
    ['WVA_ENGINE_INTERVAL', '0.001ms', 'a duration from 100ms to 1h'],
    ['WVA_FETCH_INTERVAL', '720h', 'a duration from 100ms to 1h'],
    ['WVA_DEMAND_PROBE_INTERVAL', '720h', 'a duration from 50ms to 1m'],
    ['WVA_DEMAND_PROBE_INTERVAL', '1ms', 'a duration from 50ms to 1m'],
    ['WVA_METRICS_CACHE_MAX', '99999999999', 'a whole number from 1 to 1000000'],
    ['WVA_GRPC_PORT', '0x10', 'TCP port'],
    ['WVA_BIND_ADDRESS', 'not an/address', 'IP address or host name'],
    ['WATCH_NAMESPACE', 'LLM', 'DNS-1123 label'],
    ['WVA_SCRAPE_TARGETS', 'http://u:p@pod:8000/metrics', 'without user:password@'],
    ['PROMETHEUS_BASE_URL', 'prometheus:9090', 'http(s)://'],
    ['WVA_SCRAPE_TARGETS', 'http://a/metrics,ftp://b', 'comma-separated'],
    ['LOG_LEVEL', 'verbose', 'one of'],
    ['WVA_SCALE_TO_ZERO', 'maybe', 'true or false'],
    ['WVA_MAX_SCALE_UP_RATE', '0', 'above 0'],
    ['WVA_MAX_SCALE_UP_RATE', '1e20', 'at most 100'],
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

  it('never shows secrets, not even in errors, and says whether each is set', () => {
    const s = loadSettings({ PROMETHEUS_BEARER_TOKEN: 'sekrit', REDIS_URL: 'redis://:pw@127.0.0.1:6379' });
    expect(JSON.stringify(redactedSettings(s))).not.toContain('sekrit');
    expect(JSON.stringify(redactedSettings(s))).not.toContain('pw@');
    expect(redactedSettings(s)).toMatchObject({ PROMETHEUS_BEARER_TOKEN: 'set', REDIS_URL: 'set' });
    expect(redactedSettings(defaultSettings())).toMatchObject({ PROMETHEUS_BEARER_TOKEN: 'unset', REDIS_URL: 'unset' });
    expect(() => loadSettings({ REDIS_URL: 'pw-in-here' })).toThrow(/REDIS_URL=.*hidden/);
    expect(() => loadSettings({ REDIS_URL: 'pw-in-here' })).not.toThrow(/pw-in-here/);
  });

  it('redacts user:password@ of the Prometheus URL wherever settings are shown, and in errors', () => {
    const s = loadSettings({ PROMETHEUS_BASE_URL: 'http://user:secret@prom:9090' });
    expect(s.PROMETHEUS_BASE_URL).toBe('http://user:secret@prom:9090');
    expect(redactedSettings(s)['PROMETHEUS_BASE_URL']).toBe('http://***@prom:9090');
    expect(JSON.stringify(redactedSettings(s))).not.toContain('secret');
    expect(redactUrl('https://prom:9090/x')).toBe('https://prom:9090/x');
    expect(() => loadSettings({ PROMETHEUS_BASE_URL: 'ftp://user:secret@prom:9090' })).toThrow(
      /PROMETHEUS_BASE_URL="ftp:\/\/\*\*\*@prom:9090"/,
    );
  });

  // Finding 1: `WVA_X=` and `--WVA_X=` became undefined (900 engine cycles a second, a random port,
  // no scale-up cap, leader election off). One rule: an empty value is the default.
  it.each(Object.keys(SETTING_SPECS))('an empty %s (env or flag) is its default', (name) => {
    const expected = defaultSettings()[name as SettingName];
    expect(loadSettings({ [name]: '' })[name as SettingName]).toEqual(expected);
    expect(loadSettings({ [name]: '  ' })[name as SettingName]).toEqual(expected);
    expect(loadSettings({}, [`--${name}=`])[name as SettingName]).toEqual(expected);
    expect(loadSettings({ [name]: 'x' }, [`--${name}=`])[name as SettingName]).toEqual(expected);
  });

  it('an empty value gives what the issue expected: 15s engine interval, port 8080, cap 2, leader election on', () => {
    const s = loadSettings({
      WVA_ENGINE_INTERVAL: '',
      WVA_HTTP_PORT: '',
      WVA_MAX_SCALE_UP_RATE: '',
      WVA_LEADER_ELECTION: '',
      WVA_GET_METRICS_DEADLINE: '',
      WVA_SCRAPE_TIMEOUT: '',
      LOG_LEVEL: '',
      WVA_BIND_ADDRESS: '',
      WVA_GRPC_PORT: '',
    });
    expect(s).toMatchObject({
      WVA_ENGINE_INTERVAL: 15_000,
      WVA_HTTP_PORT: 8080,
      WVA_MAX_SCALE_UP_RATE: 2,
      WVA_LEADER_ELECTION: true,
      WVA_GET_METRICS_DEADLINE: 2000,
      WVA_SCRAPE_TIMEOUT: 5000,
      LOG_LEVEL: 'info',
      WVA_BIND_ADDRESS: '0.0.0.0',
      WVA_GRPC_PORT: 9090,
    });
  });

  // Finding 2: every duration has a range, and none exceeds what a timer holds.
  it('every duration setting has a maximum a Node timer can hold, named in its error', () => {
    for (const [name, spec] of Object.entries(SETTING_SPECS)) {
      if (!spec.parser.expected.startsWith('a duration')) continue;
      expect(spec.parser.parse('720h'), name).toBeUndefined();
      expect(spec.parser.parse('0.001ms'), name).toBeUndefined();
      expect(() => loadSettings({ [name]: '720h' })).toThrow(
        new RegExp(`^invalid setting ${name}="720h": expected a duration from \\S+ to \\S+,`),
      );
    }
  });

  it('rejects unknown flags', () => {
    expect(() => loadSettings({}, ['--grpc-prot=1'])).toThrow(/a known flag/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '10', 's', '10 m', '-1s', '1d'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
