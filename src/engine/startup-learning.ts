/**
 * Each variant's pod start-up (pending -> ready), learned from the replica counts the engine sees
 * every cycle (pure): Deployment status when Kubernetes is there, the demo's or the pods reporting
 * otherwise (then none is ever pending and the setting applies). Replicas that appear pending are
 * queued with the time they were first seen; replicas that become ready are matched first in, first
 * out, and each match is one sample. Pending replicas removed before they were ready leave from the
 * back (a Deployment deletes its newest unready pods first). Pending replicas already there when the
 * engine first saw the variant have no start time and give no sample.
 */

/** Start-ups a variant keeps (the estimate is their median). */
export const STARTUP_SAMPLES = 5;

export interface StartupTrack {
  readonly current: number;
  readonly ready: number;
  /** When each pending replica was first seen, oldest first; undefined = before the engine watched. */
  readonly pendingSince: readonly (number | undefined)[];
  /** The latest start-ups (seconds), oldest first, at most STARTUP_SAMPLES. */
  readonly samplesS: readonly number[];
}

/** The track after one more observation of the variant's current and ready replicas at `now`. */
export function updateStartup(
  prev: StartupTrack | undefined,
  current: number,
  ready: number,
  now: number,
): StartupTrack {
  const pending = Math.max(0, current - ready);
  if (!prev) return { current, ready, pendingSince: new Array<undefined>(pending).fill(undefined), samplesS: [] };
  // Nothing pending before or now and the same counts: the same track (no allocation per cycle).
  if (prev.current === current && prev.ready === ready && pending === 0 && prev.pendingSince.length === 0) return prev;
  const queue = [...prev.pendingSince];
  const samples = [...prev.samplesS];
  const becameReady = Math.max(0, Math.min(ready, current) - Math.min(prev.ready, prev.current));
  for (let i = 0; i < becameReady && queue.length > 0; i++) {
    const since = queue.shift();
    if (since !== undefined) samples.push((now - since) / 1000);
  }
  while (queue.length > pending) queue.pop();
  while (queue.length < pending) queue.push(now);
  return { current, ready, pendingSince: queue, samplesS: samples.slice(-STARTUP_SAMPLES) };
}

/** The learned start-up (seconds): the median of the kept samples; undefined before the first. */
export function learnedStartupS(track: StartupTrack | undefined): number | undefined {
  const s = track?.samplesS;
  if (!s || s.length === 0) return undefined;
  const sorted = [...s].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}
