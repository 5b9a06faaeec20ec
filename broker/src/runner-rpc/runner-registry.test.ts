import { describe, expect, it } from 'vitest';
import { RunnerRegistry } from './runner-registry.js';

describe('RunnerRegistry', () => {
  const beat = (runnerId: string, busy = 0, startedAt = 1) => ({ runnerId, queue: `kb.runner.${runnerId}`, startedAt, capacity: 4, busy });

  it('forgets a runner three seconds after its last heartbeat', () => {
    let now = 0;
    const reg = new RunnerRegistry(() => now);
    reg.beat(beat('a'));
    now = 3000;
    expect(reg.alive('a', 1)).toBe(true);
    now = 3001;
    expect(reg.alive('a', 1)).toBe(false);
    expect(reg.candidates()).toEqual([]);
  });

  it('offers the least loaded runner first, counting calls we sent', () => {
    const reg = new RunnerRegistry(() => 0);
    reg.beat(beat('a', 1));
    reg.beat(beat('b', 0));
    expect(reg.candidates().map((r) => r.runnerId)).toEqual(['b', 'a']);
    reg.sent('b', 1);
    reg.sent('b', 1);
    expect(reg.candidates().map((r) => r.runnerId)).toEqual(['a', 'b']);
    expect(reg.candidates(new Set(['a'])).map((r) => r.runnerId)).toEqual(['b']);
  });

  it('keeps the containers a runner reports, null from one that does not', () => {
    const reg = new RunnerRegistry(() => 0);
    reg.beat({ ...beat('a'), containers: { pool: 2, ephemeral: 1, dedicated: 3 } });
    reg.beat(beat('b'));
    const byId = new Map(reg.candidates().map((r) => [r.runnerId, r.containers]));
    expect(byId.get('a')).toEqual({ pool: 2, ephemeral: 1, dedicated: 3 });
    expect(byId.get('b')).toBeNull();
  });

  it('treats a new start time as a new life of the runner', () => {
    const reg = new RunnerRegistry(() => 0);
    reg.beat(beat('a', 0, 1));
    reg.beat(beat('a', 0, 2));
    expect(reg.alive('a', 1)).toBe(false);
    expect(reg.alive('a', 2)).toBe(true);
  });

  it('sends one affinity key to the same runner whatever the load, and moves only the keys of a runner that died', () => {
    const reg = new RunnerRegistry(() => 0);
    for (const id of ['a', 'b', 'c']) reg.beat(beat(id));
    const tenants = Array.from({ length: 60 }, (_, i) => `tenant-${i}`);
    const before = new Map(tenants.map((t) => [t, reg.candidates(new Set(), t)[0]!.runnerId]));
    // spread: every runner gets some tenants
    expect(new Set(before.values()).size).toBe(3);
    reg.sent('a', 1);
    reg.sent('a', 1);
    for (const t of tenants) expect(reg.candidates(new Set(), t)[0]!.runnerId).toBe(before.get(t));
    reg.forget('b');
    for (const t of tenants) {
      const now = reg.candidates(new Set(), t)[0]!.runnerId;
      if (before.get(t) !== 'b') expect(now).toBe(before.get(t));
      else expect(['a', 'c']).toContain(now);
    }
  });

  describe('placement stored in the heartbeats (dedicated tenants stay where their container is)', () => {
    const tenants = Array.from({ length: 90 }, (_, i) => `tenant-${i}`);
    const first = (reg: RunnerRegistry, t: string) => reg.candidates(new Set(), t)[0]!.runnerId;
    /** Each runner beats with the tenants `placed` says it holds (as runners report what they hold). */
    const beatHolding = (reg: RunnerRegistry, ids: string[], placed: Map<string, string>) => {
      for (const id of ids) reg.beat({ ...beat(id), dedicatedTenants: tenants.filter((t) => placed.get(t) === id) });
    };

    it('a runner joining moves no tenant that is held; new tenants may go to it', () => {
      const reg = new RunnerRegistry(() => 0);
      beatHolding(reg, ['a', 'b'], new Map());
      const placed = new Map(tenants.map((t) => [t, first(reg, t)]));
      beatHolding(reg, ['a', 'b'], placed);
      // rendezvous alone would now send about a third of them to c
      reg.beat(beat('c'));
      for (const t of tenants) expect(first(reg, t)).toBe(placed.get(t));
      const fresh = Array.from({ length: 60 }, (_, i) => `new-${i}`);
      expect(fresh.some((t) => first(reg, t) === 'c')).toBe(true);
    });

    it("a runner leaving moves only its tenants, each to its next rendezvous choice, and they stay there when it comes back", () => {
      let now = 0;
      const reg = new RunnerRegistry(() => now);
      beatHolding(reg, ['a', 'b', 'c'], new Map());
      const placed = new Map(tenants.map((t) => [t, first(reg, t)]));
      beatHolding(reg, ['a', 'b', 'c'], placed);
      const ofB = tenants.filter((t) => placed.get(t) === 'b');
      expect(ofB.length).toBeGreaterThan(0);
      // b stops beating; the others go on
      now = 2000;
      beatHolding(reg, ['a', 'c'], placed);
      now = 4000;
      const moved = new Map(tenants.map((t) => [t, first(reg, t)]));
      for (const t of tenants) {
        if (placed.get(t) !== 'b') expect(moved.get(t)).toBe(placed.get(t));
        else expect(moved.get(t)).toBe(reg.candidates(new Set(['b']), t)[0]!.runnerId);
      }
      // a and c start those containers and say so; b comes back (a new life, holding nothing)
      beatHolding(reg, ['a', 'c'], moved);
      reg.beat({ ...beat('b', 0, 2), dedicatedTenants: [] });
      for (const t of tenants) expect(first(reg, t)).toBe(moved.get(t));
    });

    it('a tenant held by two runners goes to the same one from every caller; a runner that reports nothing is placed by the hash', () => {
      const one = new RunnerRegistry(() => 0);
      const two = new RunnerRegistry(() => 0);
      for (const reg of [one, two]) {
        reg.beat({ ...beat('a'), dedicatedTenants: ['t'] });
        reg.beat({ ...beat('b'), dedicatedTenants: ['t'] });
        reg.beat(beat('c')); // an older runner: no list
      }
      expect(['a', 'b']).toContain(first(one, 't'));
      expect(first(two, 't')).toBe(first(one, 't'));
      expect(one.candidates().find((r) => r.runnerId === 'c')!.dedicatedTenants).toBeNull();
      // tried already (its queue was gone): the other holder next, then the rest
      expect(one.candidates(new Set([first(one, 't')]), 't')[0]!.runnerId).toBe(first(one, 't') === 'a' ? 'b' : 'a');
    });
  });
});
