import type { RunnerContainers, RunnerHeartbeatPayload } from '../schemas/runner.js';

export interface LiveRunner {
  runnerId: string;
  queue: string;
  startedAt: number;
  capacity: number;
  /** What the runner said it runs. */
  busy: number;
  /** Calls we sent it that are still waiting (its heartbeat lags behind them). */
  inflight: number;
  lastSeen: number;
  /** Containers it said it holds (null from a runner that does not report them). */
  containers: RunnerContainers | null;
  /** Tenants whose dedicated container it said it holds (null from a runner that does not report them). */
  dedicatedTenants: ReadonlySet<string> | null;
}

/** Three missed beats (runners beat every ~1 s). */
export const RUNNER_EXPIRY_MS = 3000;

/**
 * The runners that are alive, learned from their heartbeats (telemetry):
 * a runner that has not beaten for RUNNER_EXPIRY_MS is gone, and so is one
 * whose call queue turned out missing (a `mandatory` call came back).
 */
export class RunnerRegistry {
  private readonly runners = new Map<string, LiveRunner>();
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly expiryMs = RUNNER_EXPIRY_MS,
  ) {}

  beat(h: RunnerHeartbeatPayload): void {
    const known = this.runners.get(h.runnerId);
    // A new startedAt is a restarted runner: calls in flight to the old one are lost (the caller's sweep sees it).
    const same = known && known.startedAt === h.startedAt;
    this.runners.set(h.runnerId, {
      runnerId: h.runnerId,
      queue: h.queue,
      startedAt: h.startedAt,
      capacity: h.capacity,
      busy: h.busy,
      inflight: same ? known.inflight : 0,
      lastSeen: this.clock(),
      containers: h.containers ?? null,
      dedicatedTenants: h.dedicatedTenants ? new Set(h.dedicatedTenants) : null,
    });
    for (const l of this.listeners.splice(0)) l();
  }

  /** Is this runner (this life of it) still beating? */
  alive(runnerId: string, startedAt: number): boolean {
    const r = this.runners.get(runnerId);
    return !!r && r.startedAt === startedAt && this.clock() - r.lastSeen <= this.expiryMs;
  }

  /**
   * Live runners, leaving out those already tried: least loaded first, or,
   * with an affinity key (a tenant with a dedicated container), the runners
   * that say they hold its container first, then the rest, each group in
   * the key's rendezvous-hash order. So every caller sends the tenant to
   * the same runner: where its container (and its module state) is, while
   * that runner lives. A runner joining moves nobody (rendezvous alone
   * would move ~1/N of the tenants to it and lose their state); a runner
   * leaving moves only its own tenants, each to its next rendezvous choice,
   * which then holds it. Before the first call (nobody holds it) and in the
   * second between a container's start and the next heartbeat, every
   * caller agrees by the hash alone.
   */
  candidates(exclude: ReadonlySet<string> = new Set(), affinity?: string): LiveRunner[] {
    const now = this.clock();
    const live: LiveRunner[] = [];
    for (const r of this.runners.values()) {
      if (now - r.lastSeen > this.expiryMs) this.runners.delete(r.runnerId);
      else if (!exclude.has(r.runnerId)) live.push(r);
    }
    if (affinity !== undefined) {
      const holds = (r: LiveRunner) => (r.dedicatedTenants?.has(affinity) ? 1 : 0);
      const score = new Map(live.map((r) => [r.runnerId, rendezvous(affinity, r.runnerId)]));
      return live.sort((a, b) => holds(b) - holds(a) || score.get(b.runnerId)! - score.get(a.runnerId)!);
    }
    const load = (r: LiveRunner) => (r.busy + r.inflight) / Math.max(1, r.capacity);
    return live.sort((a, b) => load(a) - load(b));
  }

  /** Its queue is gone: forget it until it beats again. */
  forget(runnerId: string): void {
    this.runners.delete(runnerId);
  }

  sent(runnerId: string, delta: 1 | -1): void {
    const r = this.runners.get(runnerId);
    if (r) r.inflight = Math.max(0, r.inflight + delta);
  }

  /** Resolves at the next heartbeat or after `ms` (right after a start, before the first beats arrived). */
  nextBeat(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const listeners = this.listeners;
      const t = setTimeout(done, Math.max(0, ms));
      listeners.push(done);
      function done() {
        clearTimeout(t);
        const i = listeners.indexOf(done);
        if (i >= 0) listeners.splice(i, 1);
        resolve();
      }
    });
  }

  get size(): number {
    return this.candidates().length;
  }
}

/** Highest-random-weight score of a (key, runner) pair: FNV-1a over both, 32 bits. */
export function rendezvous(key: string, runnerId: string): number {
  let h = 0x811c9dc5;
  const s = `${key}\u0000${runnerId}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // a final avalanche so keys that differ in their last characters spread
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
