import { describe, expect, it } from 'vitest';
import { RoomCallsInHand } from './room-calls-in-hand.js';

describe('RoomCallsInHand', () => {
  it('gives a tenant at most its cap of slots, and other tenants theirs meanwhile', () => {
    const h = new RoomCallsInHand();
    expect([1, 2, 3].map(() => h.tryTake('b', 2))).toEqual([true, true, false]);
    expect(h.of('b')).toBe(2);
    expect(h.tryTake('a', 2)).toBe(true);
    expect(h.of('a')).toBe(1);
  });

  it('frees a slot on release, and forgets a tenant with nothing in hand', () => {
    const h = new RoomCallsInHand();
    h.tryTake('b', 1);
    expect(h.tryTake('b', 1)).toBe(false);
    h.release('b');
    expect(h.of('b')).toBe(0);
    expect(h.tryTake('b', 1)).toBe(true);
    h.release('b');
    h.release('b'); // one release too many never goes below zero
    expect(h.of('b')).toBe(0);
    expect(h.tryTake('b', 1)).toBe(true);
  });

  it('refuses every call under a cap of 0', () => {
    expect(new RoomCallsInHand().tryTake('x', 0)).toBe(false);
  });
});
