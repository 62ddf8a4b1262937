/**
 * pino logger. JSON by default; pretty (pino-pretty, a dev dependency) when LOG_FORMAT=pretty, or
 * LOG_FORMAT=auto on a terminal at debug level or below. Secrets are redacted by path.
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  '*.token',
  'bearerToken',
  '*.bearerToken',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'key',
  '*.key',
  'PROMETHEUS_BEARER_TOKEN',
  '*.PROMETHEUS_BEARER_TOKEN',
  'REDIS_URL',
  '*.REDIS_URL',
];

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'auto' | 'json' | 'pretty';
  readonly destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = {
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '<redacted>' },
    base: { service: 'wva-scaler' },
  };
  if (opts.destination) return pino(base, opts.destination);
  const debugOrBelow = opts.level === 'debug' || opts.level === 'trace';
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true && debugOrBelow);
  if (pretty && prettyAvailable()) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(base);
}

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** A logger that drops everything: for tests and benches. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
