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

  it('treats a new start time as a new life of the runner', () => {
    const reg = new RunnerRegistry(() => 0);
    reg.beat(beat('a', 0, 1));
    reg.beat(beat('a', 0, 2));
    expect(reg.alive('a', 1)).toBe(false);
    expect(reg.alive('a', 2)).toBe(true);
  });
});
