import { describe, expect, it } from 'vitest';
import { TenantGate } from './tenant-gate.js';

describe('TenantGate', () => {
  it('lets `max` runs of a tenant through and queues the next until one ends', async () => {
    const gate = new TenantGate();
    const far = Date.now() + 10_000;
    const a = await gate.acquire('t1', 2, far);
    const b = await gate.acquire('t1', 2, far);
    let third: (() => void) | null = null;
    const pending = gate.acquire('t1', 2, far).then((r) => (third = r));
    // Another tenant is not held up by t1.
    expect(await gate.acquire('t2', 2, far)).toBeTypeOf('function');
    expect(third).toBeNull();
    a!();
    await pending;
    expect(third).toBeTypeOf('function');
    expect(gate.inUse('t1')).toBe(2);
    b!();
    third!();
    expect(gate.inUse('t1')).toBe(0);
  });

  it('gives up at the deadline', async () => {
    const gate = new TenantGate();
    await gate.acquire('t1', 1, Date.now() + 10_000);
    expect(await gate.acquire('t1', 1, Date.now() + 20)).toBeNull();
  });
});
