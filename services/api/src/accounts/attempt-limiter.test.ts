import { describe, expect, it } from 'vitest';
import { AttemptLimiter, AuthLimits, BACKOFF_FREE, LOGIN_PER_ACCOUNT, LOGIN_PER_DEVICE } from './attempt-limiter.js';
import type { AttemptKey, AttemptStore } from './attempt-store.js';

/** The store contract in memory, so the brakes' rules are checked here without a database (attempt-store.ts is PostgreSQL's; test/integration/shared-login-limits.test.ts runs it). */
class MemoryStore implements AttemptStore {
  private readonly hits = new Map<string, number[]>();
  add(keys: readonly AttemptKey[], at: number): Promise<number[][]> {
    return Promise.resolve(
      keys.map((k) => {
        const earlier = (this.hits.get(`${k.scope}:${k.key}`) ?? []).filter((h) => h > at - k.windowMs);
        this.hits.set(`${k.scope}:${k.key}`, [...earlier, at]);
        return earlier;
      }),
    );
  }
  withdraw(keys: readonly Pick<AttemptKey, 'scope' | 'key'>[], at: number): Promise<void> {
    for (const k of keys) {
      const list = this.hits.get(`${k.scope}:${k.key}`) ?? [];
      const i = list.indexOf(at);
      if (i >= 0) list.splice(i, 1);
    }
    return Promise.resolve();
  }
  clear(k: Pick<AttemptKey, 'scope' | 'key'>): Promise<void> {
    this.hits.delete(`${k.scope}:${k.key}`);
    return Promise.resolve();
  }
}


describe('AttemptLimiter', () => {
  it('refuses the attempt after `limit` within the window and says when to come back', () => {
    let now = 1_000_000;
    const l = new AttemptLimiter({ limit: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfterSec('k')).toBe(0);
      l.record('k');
      now += 1000;
    }
    // The oldest of the three falls out 60 s after it was made: 57 s from now.
    expect(l.retryAfterSec('k')).toBe(57);
    expect(l.retryAfterSec('other')).toBe(0);
    now += 57_000;
    expect(l.retryAfterSec('k')).toBe(0);
  });

  it('forgets a cleared key, and the least recently used keys beyond its size', () => {
    const l = new AttemptLimiter({ limit: 1, windowMs: 60_000 }, () => 0, 2);
    l.record('a');
    l.clear('a');
    expect(l.retryAfterSec('a')).toBe(0);
    l.record('a');
    l.record('b');
    l.record('c');
    expect(l.retryAfterSec('a')).toBe(0);
    expect(l.retryAfterSec('b')).toBeGreaterThan(0);
    expect(l.retryAfterSec('c')).toBeGreaterThan(0);
  });
});

describe('AuthLimits', () => {
  const held = async (f: () => Promise<unknown>) => {
    try {
      await f();
      return 0;
    } catch (err) {
      return (err as { details?: { retryAfterSec: number } }).details?.retryAfterSec ?? -1;
    }
  };

  it('slows one place on one account after 5 failures: 1 s, 2 s, 4 s after the latest', async () => {
    let now = 1_000_000;
    const l = new AuthLimits(new MemoryStore(), () => now);
    const from = { ip: '10.0.0.1', device: null };
    for (let i = 0; i < BACKOFF_FREE; i++) await l.beginLogin('a@x', from);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const wait = await held(() => l.beginLogin('a@x', from));
      waits.push(wait);
      now += wait * 1000;
      await l.beginLogin('a@x', from);
    }
    expect(waits).toEqual([1, 2, 4]);
    // Another address, and another account from this address, are not slowed.
    expect(await held(() => l.beginLogin('a@x', { ip: '10.0.0.2', device: null }))).toBe(0);
    expect(await held(() => l.beginLogin('b@x', from))).toBe(0);
  });

  it('counts an attempt from its start: parallel guesses cannot all pass the check', async () => {
    const l = new AuthLimits(new MemoryStore(), () => 0);
    const from = { ip: '10.0.0.1', device: null };
    const started = await Promise.all(Array.from({ length: 8 }, () => held(() => l.beginLogin('a@x', from))));
    expect(started.filter((w) => w === 0)).toHaveLength(BACKOFF_FREE);
  });

  it('holds browsers an account does not know after 10 failures, but not the browser it knows', async () => {
    let now = 0;
    const l = new AuthLimits(new MemoryStore(), () => now);
    for (let i = 0; i < LOGIN_PER_ACCOUNT.limit; i++) await l.beginLogin('owner@x', { ip: `10.1.0.${i}`, device: null });
    expect(await held(() => l.beginLogin('owner@x', { ip: '10.2.0.1', device: null }))).toBeGreaterThan(800);
    expect(await held(() => l.beginLogin('owner@x', { ip: '10.1.0.1', device: 'owner-laptop' }))).toBe(0);
    now += LOGIN_PER_ACCOUNT.windowMs + 1;
    expect(await held(() => l.beginLogin('owner@x', { ip: '10.2.0.1', device: null }))).toBe(0);
  });

  it('a known browser is limited on its own failures (a stolen device cookie is no free pass)', async () => {
    let now = 0;
    const l = new AuthLimits(new MemoryStore(), () => now);
    const stolen = { ip: '10.3.0.1', device: 'd1' };
    // Guessing as fast as the progressive delay allows: after LOGIN_PER_DEVICE failures, a long hold.
    let failures = 0;
    for (let wait = 0; wait <= 60; ) {
      wait = await held(() => l.beginLogin('owner@x', stolen));
      if (wait === 0) failures++;
      else if (wait <= 60) now += wait * 1000;
    }
    expect(failures).toBe(LOGIN_PER_DEVICE.limit);
    expect(await held(() => l.beginLogin('owner@x', { ip: '10.3.0.1', device: 'd2' }))).toBe(0);
  });

  it('a success takes its attempt back and forgets the place\'s failures; a voided attempt is no failure', async () => {
    const l = new AuthLimits(new MemoryStore(), () => 0);
    const from = { ip: '10.4.0.1', device: null };
    for (let i = 0; i < BACKOFF_FREE - 1; i++) await l.beginLogin('a@x', from);
    await (await l.beginLogin('a@x', from)).succeeded();
    for (let i = 0; i < BACKOFF_FREE; i++) await (await l.beginLogin('a@x', from)).voided();
    for (let i = 0; i < BACKOFF_FREE; i++) expect(await held(() => l.beginLogin('a@x', from))).toBe(0);
    expect(await held(() => l.beginLogin('a@x', from))).toBe(1);
  });
});
