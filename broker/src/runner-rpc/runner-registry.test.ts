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
});
