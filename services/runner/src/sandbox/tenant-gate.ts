/**
 * The per-tenant concurrency cap (DESIGN.md section 5: free plan 2 runs at
 * once), so one busy room cannot drain a pool. Calls over the cap wait in
 * arrival order for a slot until their deadline. The cap travels in each
 * call's profile (the plan row's max_concurrency); it holds per runner.
 */
interface Waiter {
  max: number;
  grant: () => void;
  timer: NodeJS.Timeout;
}

export class TenantGate {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  /** Resolves with a release function, or null when the deadline came first. */
  acquire(tenantId: string, max: number, deadline: number): Promise<(() => void) | null> {
    if ((this.running.get(tenantId) ?? 0) < max && !this.waiting.get(tenantId)?.length) {
      return Promise.resolve(this.take(tenantId));
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(tenantId) ?? [];
      this.waiting.set(tenantId, queue);
      const waiter: Waiter = {
        max,
        grant: () => {
          clearTimeout(waiter.timer);
          resolve(this.take(tenantId));
        },
        timer: setTimeout(() => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          if (!queue.length) this.waiting.delete(tenantId);
          resolve(null);
        }, Math.max(0, deadline - Date.now())),
      };
      queue.push(waiter);
    });
  }

  inUse(tenantId: string): number {
    return this.running.get(tenantId) ?? 0;
  }

  private take(tenantId: string): () => void {
    this.running.set(tenantId, (this.running.get(tenantId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.running.get(tenantId) ?? 1) - 1;
      if (n > 0) this.running.set(tenantId, n);
      else this.running.delete(tenantId);
      this.next(tenantId);
    };
  }

  private next(tenantId: string): void {
    const queue = this.waiting.get(tenantId);
    const head = queue?.[0];
    if (!queue || !head || (this.running.get(tenantId) ?? 0) >= head.max) return;
    queue.shift();
    if (!queue.length) this.waiting.delete(tenantId);
    head.grant();
  }
}
