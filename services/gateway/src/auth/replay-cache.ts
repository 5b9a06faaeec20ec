import type { Clock } from '../clock.js';

/**
 * Keys of packets already ACCEPTED, each kept until its signature could no
 * longer pass the time window anyway. Only acceptance writes here, so a
 * packet the phone queued while offline and replays after reconnecting (with
 * its original auth) is accepted the first time we see it.
 *
 * Memory is bounded: insertion order is roughly expiry order, so expired
 * entries are swept from the front a few at a time; past `max` entries the
 * oldest go first (a replay of those is then caught only by the window).
 */
export class ReplayCache {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    const exp = this.entries.get(key);
    if (exp === undefined) return false;
    if (exp <= this.clock.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  /** Records the key; false when it was already there (and still valid). */
  add(key: string, expiresAt: number): boolean {
    this.sweep(8);
    if (this.has(key)) return false;
    this.entries.set(key, expiresAt);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops up to `budget` expired entries from the front (amortised O(1) per packet). */
  sweep(budget = Infinity): void {
    const now = this.clock.now();
    for (const [key, exp] of this.entries) {
      if (budget-- <= 0 || exp > now) return;
      this.entries.delete(key);
    }
  }
}
