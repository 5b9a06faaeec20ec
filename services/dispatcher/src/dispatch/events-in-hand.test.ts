import { describe, expect, it } from 'vitest';
import { EventsInHand } from './events-in-hand.js';

/** A handling that ends when told to, recording when it started and ended. */
function handling(log: string[], name: string) {
  let finish!: (ok: boolean) => void;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const work = async () => {
    log.push(`${name} start`);
    const ok = await done;
    log.push(`${name} end`);
    if (!ok) throw new Error(`${name} failed`);
  };
  return { work, finish };
}

describe('EventsInHand', () => {
  it('runs a second delivery of the same event only after the first handling ended', async () => {
    const log: string[] = [];
    const hand = new EventsInHand();
    const first = handling(log, 'first');
    const second = handling(log, 'second');
    const a = hand.run('e1', first.work);
    const b = hand.run('e1', second.work);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['first start']);
    first.finish(true);
    await a;
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['first start', 'first end', 'second start']);
    second.finish(true);
    await b;
    expect(hand.size).toBe(0);
  });

  it('lets the second run after a first that failed, and keeps other events apart', async () => {
    const log: string[] = [];
    const hand = new EventsInHand();
    const first = handling(log, 'first');
    const other = handling(log, 'other');
    const second = handling(log, 'second');
    const a = hand.run('e1', first.work);
    const o = hand.run('e2', other.work);
    const b = hand.run('e1', second.work);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['first start', 'other start']);
    first.finish(false);
    await expect(a).rejects.toThrow('first failed');
    await new Promise((r) => setImmediate(r));
    expect(log).toContain('second start');
    other.finish(true);
    second.finish(true);
    await Promise.all([o, b]);
    expect(hand.size).toBe(0);
  });
});
