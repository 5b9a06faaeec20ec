import { describe, expect, it } from 'vitest';
import { WriteBatcher } from './write-batcher.js';

describe('WriteBatcher', () => {
  it('sends writes of the same moment as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const b = new WriteBatcher<number, number>(
      async (items) => {
        batches.push(items);
        return items.map((i) => i * 10);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    const out = await Promise.all([1, 2, 3].map((i) => b.submit(i)));
    expect(out).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('caps the batch size and the statements in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const sizes: number[] = [];
    const release: (() => void)[] = [];
    const b = new WriteBatcher<number, number>(
      async (items) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        sizes.push(items.length);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        return items;
      },
      { maxBatch: 2, maxInFlight: 2 },
    );
    const all = Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => b.submit(i)));
    // Let whatever can start, start; then release everything in turn.
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const r = release.shift();
      if (!r) break;
      r();
    }
    expect(await all).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBeLessThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
  });

  it('retries a failed batch item by item so one bad row fails alone', async () => {
    const b = new WriteBatcher<number, number>(
      async (items) => {
        if (items.includes(13)) throw new Error('check constraint');
        return items;
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([12, 13, 14].map((i) => b.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails the whole batch at once when the database is down (no item-by-item storm)', async () => {
    let calls = 0;
    const b = new WriteBatcher<number, number>(
      async () => {
        calls++;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3].map((i) => b.submit(i)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
  });
});
