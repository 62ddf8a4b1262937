/**
 * The Prometheus bearer token: a fixed value (PROMETHEUS_BEARER_TOKEN) or a file
 * (PROMETHEUS_TOKEN_PATH, e.g. a projected service-account token that the kubelet rotates). The
 * file is re-read when its mtime or size changes, so rotation needs no restart. The value never
 * leaves this object except as the Authorization header.
 */
import { readFileSync, statSync } from 'node:fs';

export interface BearerTokenSource {
  /** The current token, or undefined when none is configured. Throws when the file is unreadable. */
  current(): string | undefined;
}

export class StaticBearerToken implements BearerTokenSource {
  constructor(private readonly token: string | undefined) {}
  current(): string | undefined {
    return this.token === undefined || this.token === '' ? undefined : this.token;
  }
}

export class FileBearerToken implements BearerTokenSource {
  private cached: { mtimeMs: number; size: number; token: string } | undefined;

  constructor(private readonly path: string) {}

  current(): string | undefined {
    let st;
    try {
      st = statSync(this.path);
    } catch (error) {
      throw new Error(
        `cannot read PROMETHEUS_TOKEN_PATH ${this.path}: ${(error as Error).message}; expected a readable file holding the bearer token`,
        { cause: error },
      );
    }
    if (!this.cached || this.cached.mtimeMs !== st.mtimeMs || this.cached.size !== st.size) {
      const token = readFileSync(this.path, 'utf8').trim();
      this.cached = { mtimeMs: st.mtimeMs, size: st.size, token };
    }
    return this.cached.token === '' ? undefined : this.cached.token;
  }
}

/** The file wins over the value when both are set (a rotated token is the fresher one). */
export function bearerTokenSource(opts: {
  token?: string | undefined;
  tokenPath?: string | undefined;
}): BearerTokenSource {
  if (opts.tokenPath) return new FileBearerToken(opts.tokenPath);
  return new StaticBearerToken(opts.token);
}
