import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LeadershipSource } from '../../../src/domain/leadership.js';
import type { DecisionSource } from '../../../src/engine/decision-source.js';
import { ComputeRole, type SharedStoreState } from '../../../src/engine/compute-role.js';
import { silentLogger } from '../../../src/observability/logger.js';

/** A leadership or store whose state the test sets; `announce` says whether listeners hear it. */
class Switch {
  value: boolean;
  private readonly listeners = new Set<(v: boolean) => void>();
  constructor(initial: boolean) {
    this.value = initial;
  }
  set(value: boolean, announce = true): void {
    this.value = value;
    if (announce) for (const l of this.listeners) l(value);
  }
  onChange(listener: (v: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function leadershipOf(s: Switch): LeadershipSource {
  return { isLeader: () => s.value, onChange: (l) => s.onChange(l) };
}
function storeOf(s: Switch): SharedStoreState {
  return {
    isUp: () => s.value,
    get state() {
      return s.value ? 'up' : 'down';
    },
    onStateChange: (l) => s.onChange(l),
  };
}
const source = (name: string): DecisionSource => ({ requestDecision: async () => ({ ok: false, reason: name }) });

function setup(opts: { leader: boolean; store?: boolean }) {
  const log: string[] = [];
  const worker = (name: string) => ({
    start: () => void log.push(`start ${name}`),
    stop: () => void log.push(`stop ${name}`),
  });
  const leader = new Switch(opts.leader);
  const store = opts.store === undefined ? undefined : new Switch(opts.store);
  const role = new ComputeRole({
    leadership: leadershipOf(leader),
    store: store ? storeOf(store) : undefined,
    workers: [worker('fetcher'), worker('engine'), worker('probe')],
    onFollow: () => void log.push('follow'),
    computing: source('engine'),
    following: source('waiter'),
    logger: silentLogger(),
  });
  const asks = async () => {
    const outcome = await role.requestDecision('ns/v', new AbortController().signal);
    return outcome.ok ? 'decision' : outcome.reason;
  };
  return { role, log, leader, store, asks };
}

describe('ComputeRole', () => {
  afterEach(() => vi.useRealTimers());

  it('computes alone when nothing is shared, leader or not', async () => {
    const { role, log, asks } = setup({ leader: false });
    role.start();
    expect(role.computing).toBe(true);
    expect(log).toEqual(['start fetcher', 'start engine', 'start probe']);
    expect(await asks()).toBe('engine');
    role.stop();
  });

  it('follows while another replica leads and the store is up, asking the waiter', async () => {
    const { role, log, asks } = setup({ leader: false, store: true });
    role.start();
    expect(role.computing).toBe(false);
    expect(log).toEqual([]);
    expect(await asks()).toBe('waiter');
    expect(role.describe()).toEqual({ computing: false, leader: false, store: 'up' });
    role.stop();
  });

  it('starts the workers on gaining leadership and stops them in reverse order on losing it', () => {
    const { role, log, leader } = setup({ leader: false, store: true });
    role.start();
    leader.set(true);
    expect(log).toEqual(['start fetcher', 'start engine', 'start probe']);
    leader.set(false);
    expect(log.slice(3)).toEqual(['stop probe', 'stop engine', 'stop fetcher', 'follow']);
    role.stop();
  });

  it('computes while the store is down, since a follower could not receive decisions', () => {
    const { role, store } = setup({ leader: false, store: true });
    role.start();
    store?.set(false);
    expect(role.computing).toBe(true);
    store?.set(true);
    expect(role.computing).toBe(false);
    role.stop();
  });

  it('notices a lapse that no listener announced at the next recheck', () => {
    vi.useFakeTimers();
    const { role, leader } = setup({ leader: true, store: true });
    role.start();
    expect(role.computing).toBe(true);
    leader.set(false, false);
    expect(role.computing).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(role.computing).toBe(false);
    role.stop();
  });

  it('stops judging after stop(), leaving the workers to the caller', () => {
    vi.useFakeTimers();
    const { role, log, leader } = setup({ leader: false, store: true });
    role.start();
    role.stop();
    leader.set(true);
    vi.advanceTimersByTime(5000);
    expect(role.computing).toBe(false);
    expect(log).toEqual([]);
  });
});
