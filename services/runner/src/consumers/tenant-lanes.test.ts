import { describe, expect, it } from 'vitest';
import { TenantLanes, type LaneLimits } from './tenant-lanes.js';

const FAR = 1_000_000;
const lanes = (over: Partial<LaneLimits> = {}) => new TenantLanes<string>({ capacity: 4, containers: 4, lineMax: 3, ...over });

describe('TenantLanes', () => {
  it('runs a tenant up to its cap at once, parks the next, and starts it when one of its calls ends', () => {
    const l = lanes();
    expect(l.admit('b', 2, true, FAR, 'b1')).toBe('run');
    expect(l.admit('b', 2, true, FAR, 'b2')).toBe('run');
    expect(l.admit('b', 2, true, FAR, 'b3')).toBe('parked');
    expect([l.running, l.waiting]).toEqual([2, 1]);
    // Another tenant passes B's line: its calls are not behind B's.
    expect(l.admit('a', 2, true, FAR, 'a1')).toBe('run');
    expect(l.finish('a', true, 0)).toEqual({ run: [], late: [] });
    expect(l.finish('b', true, 0)).toEqual({ run: ['b3'], late: [] });
    expect([l.running, l.waiting]).toEqual([2, 0]);
  });

  it('keeps a tenant in arrival order: a call behind a waiting one waits although a slot of its tenant is free', () => {
    const l = lanes({ capacity: 1 });
    expect(l.admit('a', 2, true, FAR, 'a1')).toBe('run');
    // The runner is full: a2 waits although A is under its cap.
    expect(l.admit('a', 2, true, FAR, 'a2')).toBe('parked');
    expect(l.finish('a', true, 0).run).toEqual(['a2']);
    expect(l.admit('a', 2, true, FAR, 'a3')).toBe('parked');
  });

  it('refuses beyond the line and counts it for the heartbeat, once per report', () => {
    const l = lanes({ lineMax: 2 });
    expect(['b1', 'b2', 'b3', 'b4', 'b5'].map((c) => l.admit('b', 1, true, FAR, c))).toEqual(['run', 'parked', 'parked', 'full', 'full']);
    expect(l.admit('a', 1, true, FAR, 'a1')).toBe('run');
    expect(l.report()).toEqual([{ tenantId: 'b', running: 1, waiting: 2, refused: 2 }]);
    expect(l.report()).toEqual([{ tenantId: 'b', running: 1, waiting: 2, refused: 0 }]);
  });

  it('reports a tenant refused since the last beat even when its line has emptied', () => {
    const l = lanes({ lineMax: 0 });
    expect(l.admit('b', 1, true, FAR, 'b1')).toBe('run');
    expect(l.admit('b', 1, true, FAR, 'b2')).toBe('full');
    l.finish('b', true, 0);
    expect(l.report()).toEqual([{ tenantId: 'b', running: 0, waiting: 0, refused: 1 }]);
    expect(l.report()).toEqual([]);
  });

  it('hands freed runner slots round robin across tenants with waiting calls, not to the longest line', () => {
    const l = lanes({ capacity: 2, lineMax: 10 });
    expect(l.admit('x', 9, true, FAR, 'x0')).toBe('run');
    expect(l.admit('x', 9, true, FAR, 'x1')).toBe('run');
    for (const c of ['b1', 'b2', 'b3', 'b4']) expect(l.admit('b', 9, true, FAR, c)).toBe('parked');
    for (const c of ['a1', 'a2']) expect(l.admit('a', 9, true, FAR, c)).toBe('parked');
    expect(l.admit('c', 9, true, FAR, 'c1')).toBe('parked');
    const order: string[] = [];
    let tenant = 'x';
    for (let i = 0; i < 7; i++) {
      const { run } = l.finish(tenant, true, 0);
      expect(run).toHaveLength(1);
      order.push(run[0]!);
      tenant = run[0]![0]!;
    }
    expect(order).toEqual(['b1', 'a1', 'c1', 'b2', 'a2', 'b3', 'b4']);
    l.finish('x', true, 0);
    l.finish('b', true, 0);
    expect([l.running, l.waiting]).toEqual([0, 0]);
  });

  it('skips a tenant at its cap and serves the others with the freed slots', () => {
    const l = lanes({ capacity: 3, lineMax: 10 });
    expect(l.admit('b', 1, true, FAR, 'b1')).toBe('run');
    expect(l.admit('b', 1, true, FAR, 'b2')).toBe('parked');
    expect(l.admit('x', 5, true, FAR, 'x1')).toBe('run');
    expect(l.admit('x', 5, true, FAR, 'x2')).toBe('run');
    expect(l.admit('a', 5, true, FAR, 'a1')).toBe('parked');
    // X's slot frees: B is at its cap (b1 still runs), so A gets it.
    expect(l.finish('x', true, 0).run).toEqual(['a1']);
    expect(l.waiting).toBe(1);
    expect(l.finish('b', true, 0).run).toEqual(['b2']);
  });

  it('limits calls holding an ephemeral container separately; dedicated calls pass them', () => {
    const l = lanes({ capacity: 4, containers: 1 });
    expect(l.admit('a', 2, true, FAR, 'a1')).toBe('run');
    expect(l.admit('b', 2, true, FAR, 'b1')).toBe('parked');
    expect(l.admit('p', 8, false, FAR, 'p1')).toBe('run');
    expect(l.containers).toBe(1);
    expect(l.finish('p', false, 0).run).toEqual([]);
    expect(l.finish('a', true, 0).run).toEqual(['b1']);
  });

  it('never starts a call whose deadline passed while it waited: expire takes it out, finish skips it', () => {
    const l = lanes({ lineMax: 10 });
    expect(l.admit('b', 1, true, FAR, 'b1')).toBe('run');
    expect(l.admit('b', 1, true, 100, 'b2')).toBe('parked');
    expect(l.admit('b', 1, true, 300, 'b3')).toBe('parked');
    expect(l.admit('b', 1, true, 200, 'b4')).toBe('parked');
    expect(l.admit('b', 1, true, FAR, 'b5')).toBe('parked');
    expect(l.nextDeadline()).toBe(100);
    expect(l.expire(99)).toEqual({ run: [], late: [] });
    expect(l.expire(200)).toEqual({ run: [], late: ['b2', 'b4'] });
    expect(l.nextDeadline()).toBe(300);
    // b3's deadline passes before b1 ends: it leaves late and b5 runs.
    expect(l.finish('b', true, 300)).toEqual({ run: ['b5'], late: ['b3'] });
    expect(l.nextDeadline()).toBeNull();
    expect(l.waiting).toBe(0);
  });

  it('gives the slots back when it drains, and forgets idle tenants', () => {
    const l = lanes({ capacity: 1 });
    expect(l.admit('a', 1, true, FAR, 'a1')).toBe('run');
    expect(l.admit('b', 1, true, FAR, 'b1')).toBe('parked');
    expect(l.admit('c', 1, true, FAR, 'c1')).toBe('parked');
    expect(l.drain()).toEqual(['b1', 'c1']);
    expect(l.finish('a', true, 0)).toEqual({ run: [], late: [] });
    expect([l.running, l.waiting, l.containers]).toEqual([0, 0, 0]);
    expect(l.report()).toEqual([]);
  });

  it('follows a cap change: the next call carries the new plan', () => {
    const l = lanes();
    expect(l.admit('a', 1, true, FAR, 'a1')).toBe('run');
    expect(l.admit('a', 1, true, FAR, 'a2')).toBe('parked');
    // Upgraded: the waiting call may run next to a1 as soon as anything moves.
    expect(l.admit('a', 3, true, FAR, 'a3')).toBe('parked');
    expect(l.expire(0).run).toEqual(['a2', 'a3']);
  });
});
