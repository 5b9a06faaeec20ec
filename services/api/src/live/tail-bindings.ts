import { routingKeys, type BrokerConnection } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import { LazyChannel } from '../bus/channels.js';

/**
 * Which tenants' finished room calls (`dispatch.done.*.<tenantId>`, the calls in their `call`) reach this API
 * process: only those with someone on the live tail. Every room call is
 * published once by the dispatcher; bound for all tenants, each would also
 * be routed to, parsed and dropped by every API process while nobody
 * watches, on the message path's busiest broker. Binds and unbinds run in
 * order on a channel of their own; after a reconnect the feed's queue setup
 * binds every watched tenant again (`bindAll`).
 */
export class TailBindings {
  private readonly watchers = new Map<string, number>();
  private readonly channel: LazyChannel;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    conn: BrokerConnection,
    private readonly exchange: string,
    /** The feed's queue, once it has one (null before the first subscription: `routingKeys` covers that case). */
    private readonly queue: () => string | null,
    private readonly logger: Logger,
  ) {
    this.channel = new LazyChannel(conn);
  }

  /** What the call-log feed's queue setup binds (first subscription and every reconnect): every watched tenant, a watch added meanwhile too. */
  *routingKeys(): Iterable<string> {
    for (const tenantId of this.watchers.keys()) yield routingKeys.callLog(tenantId);
  }

  /** One more tail room of the tenant exists; resolves once its calls are routed here. */
  watch(tenantId: string): Promise<void> {
    const n = (this.watchers.get(tenantId) ?? 0) + 1;
    this.watchers.set(tenantId, n);
    return n === 1 ? this.enqueue('bind', tenantId) : this.chain;
  }

  /** A tail room of the tenant is gone; the last one takes the binding with it. */
  unwatch(tenantId: string): void {
    const n = (this.watchers.get(tenantId) ?? 0) - 1;
    if (n > 0) {
      this.watchers.set(tenantId, n);
      return;
    }
    this.watchers.delete(tenantId);
    void this.enqueue('unbind', tenantId);
  }

  /** Resolves once every bind and unbind asked for so far has been carried out (or given up). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Tenants watched now (tests, metrics). */
  get watched(): string[] {
    return [...this.watchers.keys()];
  }

  private enqueue(op: 'bind' | 'unbind', tenantId: string): Promise<void> {
    this.chain = this.chain.then(() => this.apply(op, tenantId));
    return this.chain;
  }

  private async apply(op: 'bind' | 'unbind', tenantId: string): Promise<void> {
    const queue = this.queue();
    // A watch undone meanwhile (or redone): the map says what should hold now.
    if (!queue || (op === 'bind') !== this.watchers.has(tenantId)) return;
    try {
      const ch = await this.channel.get();
      if (op === 'bind') await ch.bindQueue(queue, this.exchange, routingKeys.callLog(tenantId));
      else await ch.unbindQueue(queue, this.exchange, routingKeys.callLog(tenantId));
    } catch (err) {
      // The broker is away: the feed's next queue setup binds what is watched then.
      this.logger.warn({ err: String(err), op, tenantId }, 'live tail binding failed');
      this.channel.drop();
    }
  }
}
