/**
 * Each tenant's room calls this dispatcher holds, from claim to finish (the
 * target call, the store and the reply). The events in hand share one
 * prefetch (DISPATCHER_PREFETCH); a tenant whose slow target holds all of it
 * would stall every other tenant's messages behind its own. A call beyond
 * the tenant's cap (plan `room_calls_in_flight`) is answered "busy" at once
 * and acked, so it frees its place in the prefetch instead of holding it.
 *
 * In memory, per process, like the prefetch it protects: with several
 * dispatchers a tenant may hold its cap at each. No shared counter, so the
 * hot path gains no statement and a crashed process leaks no slots.
 */
export class RoomCallsInHand {
  private readonly held = new Map<string, number>();

  /** Takes a slot for the tenant's call; false when it already holds `cap` (the call is answered busy). */
  tryTake(tenantId: string, cap: number): boolean {
    const n = this.held.get(tenantId) ?? 0;
    if (n >= cap) return false;
    this.held.set(tenantId, n + 1);
    return true;
  }

  /** Gives back a slot taken by `tryTake` (once per slot, when the call is finished or failed). */
  release(tenantId: string): void {
    const n = this.held.get(tenantId) ?? 0;
    // No entry for idle tenants: the map holds only tenants with calls in hand.
    if (n <= 1) this.held.delete(tenantId);
    else this.held.set(tenantId, n - 1);
  }

  /** How many calls of the tenant are in hand now. */
  of(tenantId: string): number {
    return this.held.get(tenantId) ?? 0;
  }
}
