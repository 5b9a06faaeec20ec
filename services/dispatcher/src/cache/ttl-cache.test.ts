import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('loads once, serves from memory until the entry expires', async () => {
    let now = 0;
    let loads = 0;
    const c = new TtlCache<string, number>(() => now);
    const load = async () => ++loads;
    expect(await c.get('k', load, () => 1000)).toBe(1);
    expect(await c.get('k', load, () => 1000)).toBe(1);
    now = 1001;
    expect(await c.get('k', load, () => 1000)).toBe(2);
  });

  it('shares one load among concurrent callers', async () => {
    let loads = 0;
    const c = new TtlCache<string, number>(() => 0);
    const load = async () => ++loads;
    const [a, b] = await Promise.all([c.get('k', load, () => 1000), c.get('k', load, () => 1000)]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
  });

  it('does not keep a value whose load was in flight when the key was dropped', async () => {
    let release!: (v: string) => void;
    const c = new TtlCache<string, string>(() => 0);
    const stale = c.get('k', () => new Promise<string>((r) => (release = r)), () => 1000);
    c.delete('k');
    release('before the change');
    expect(await stale).toBe('before the change');
    expect(await c.get('k', async () => 'after the change', () => 1000)).toBe('after the change');
  });

  it('lets the TTL depend on the value (short for unapproved states)', async () => {
    let now = 0;
    const c = new TtlCache<string, string>(() => now);
    const ttl = (v: string) => (v === 'approved' ? 30_000 : 1_000);
    let status = 'pending';
    expect(await c.get('d', async () => status, ttl)).toBe('pending');
    status = 'approved';
    now = 999;
    expect(await c.get('d', async () => status, ttl)).toBe('pending');
    now = 1001;
    expect(await c.get('d', async () => status, ttl)).toBe('approved');
  });

  it('drops keys by predicate', async () => {
    const c = new TtlCache<string, number>(() => 0);
    await c.get('bot1/a', async () => 1, () => 1000);
    await c.get('bot2/a', async () => 2, () => 1000);
    c.deleteWhere((k) => k.startsWith('bot1/'));
    expect(c.size).toBe(1);
  });
});
