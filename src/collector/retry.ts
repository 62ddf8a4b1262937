/**
 * Retries with exponential backoff and full jitter (AWS "full jitter"): the delay before retry n is
 * uniform in [0, min(cap, base * 2^n)], so many scaler replicas do not retry in lockstep.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = try once). */
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

export interface RetryDeps {
  /** Uniform random in [0, 1); injectable for tests. */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `op` until it succeeds, `isRetryable(error)` is false, or the retries are used up. */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  policy: RetryPolicy,
  deps: RetryDeps = {},
): Promise<T> {
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (error) {
      if (attempt >= policy.retries || !isRetryable(error)) throw error;
      await sleep(backoffDelayMs(attempt, policy, random));
    }
  }
}
