import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from '../connection.js';
import type { Publisher } from '../publisher.js';
import { ConsumerSlot } from './consumer-slot.js';
import { SharedSubscription, type SharedSubscriptionOptions, type SubscriptionHost } from './shared-subscription.js';

export interface ConsumerChannelsOptions {
  /** Consumers per channel (RabbitMQ's channel_max, 2047 by default, would otherwise cap consumers per connection). */
  perChannel: number;
  /** Per-consumer prefetch (basic.qos without global: each consumer on a channel gets its own). */
  prefetch: number;
  /** Channels used to declare queues, round-robin (declarations are one round trip each per channel). */
  declareChannels?: number;
}

/**
 * Many small consumers (one queue each, e.g. a reply queue per phone) on a
 * bounded number of channels of one connection: a channel holds up to
 * `perChannel` consumers, so 10,000 queues need 20 channels at 500, not
 * 10,000 (a connection has at most 2,047 by default). Queues are declared
 * on channels of their own: a failed declaration closes its channel, and
 * on a shared one it would take every consumer there with it.
 *
 * A subscription leaves with basic.cancel and gives its held messages back
 * with nack-requeue (SharedSubscription.stop); the channel stays. After a
 * reconnect, and when a channel closes under its consumers (channel error),
 * every live subscription subscribes again on a new channel.
 */
export class ConsumerChannels implements SubscriptionHost {
  private slots: ConsumerSlot[] = [];
  private opening: Promise<ConsumerSlot> | null = null;
  private readonly subs = new Set<SharedSubscription<unknown>>();
  private declarers: (Channel | null)[];
  private nextDeclarer = 0;
  private stopped = false;
  private readonly hook = () => this.resubscribeAll();

  constructor(
    private readonly conn: BrokerConnection,
    private readonly publisher: Publisher,
    private readonly opts: ConsumerChannelsOptions,
  ) {
    this.declarers = new Array<Channel | null>(Math.max(1, opts.declareChannels ?? 4)).fill(null);
  }

  get logger() {
    return this.conn.logger;
  }

  /** Open consumer channels (declaring channels not counted). */
  get channels(): number {
    return this.slots.filter((s) => !s.closed).length;
  }

  get subscriptions(): number {
    return this.subs.size;
  }

  /** Re-subscribes everything after each reconnect. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.conn.onReady(this.hook);
  }

  /** Subscribes one queue; resolves once it consumes (or, while the broker is away or the subscribe failed, it subscribes later). */
  async subscribe<P>(opts: SharedSubscriptionOptions<P>): Promise<SharedSubscription<P>> {
    const sub = new SharedSubscription<P>(this, opts);
    this.subs.add(sub as SharedSubscription<unknown>);
    // A failed subscribe (a declaration RabbitMQ did not finish) is retried in the background, like a lost one.
    if (this.conn.ready) await sub.attach().catch(() => this.retryLater([sub as SharedSubscription<unknown>], 500));
    return sub;
  }

  /** Closes every channel: what each consumer held goes back to its queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.conn.offReady(this.hook);
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.close()));
    const decl = this.declarers;
    this.declarers = decl.map(() => null);
    await Promise.all(decl.map((ch) => ch?.close().catch(() => undefined)));
  }

  // ---- SubscriptionHost ---------------------------------------------------

  forget(sub: SharedSubscription<unknown>): void {
    this.subs.delete(sub);
  }

  deadLetter(msg: ConsumeMessage, queue: string, reason: string): Promise<void> {
    return this.publisher.deadLetter(msg, queue, reason);
  }

  async declare(setup: (ch: Channel) => Promise<string>): Promise<string> {
    const i = this.nextDeclarer++ % this.declarers.length;
    let ch = this.declarers[i];
    if (!ch) {
      const fresh = await this.conn.createChannel();
      fresh.on('error', (err) => this.logger.warn({ err: String(err) }, 'declaring channel error'));
      fresh.on('close', () => {
        if (this.declarers[i] === fresh) this.declarers[i] = null;
      });
      // Another declaration may have opened one meanwhile: keep the first.
      if (this.declarers[i]) await fresh.close().catch(() => undefined);
      else this.declarers[i] = fresh;
      ch = this.declarers[i]!;
    }
    return setup(ch);
  }

  /** A place on a channel with room, opening one when all are full (one opening at a time). */
  async slotFor(sub: SharedSubscription<unknown>): Promise<ConsumerSlot> {
    for (;;) {
      const free = this.slots.find((s) => !s.closed && !s.full);
      if (free) {
        free.members.add(sub);
        return free;
      }
      if (this.stopped) throw new Error('consumer channels stopped');
      this.opening ??= this.openSlot().finally(() => (this.opening = null));
      await this.opening;
    }
  }

  private async openSlot(): Promise<ConsumerSlot> {
    const ch = await this.conn.createChannel();
    await ch.prefetch(this.opts.prefetch);
    const slot = new ConsumerSlot(ch, this.opts.perChannel);
    ch.on('error', (err) => this.logger.warn({ err: String(err), consumers: slot.members.size }, 'shared consumer channel error'));
    ch.on('close', () => this.onSlotClosed(slot));
    this.slots.push(slot);
    return slot;
  }

  /** A channel went: its consumers subscribe again elsewhere (after a reconnect the hook does it). */
  private onSlotClosed(slot: ConsumerSlot): void {
    const members = [...slot.members] as SharedSubscription<unknown>[];
    slot.lost();
    this.slots = this.slots.filter((s) => s !== slot);
    if (this.stopped || members.length === 0) return;
    // A channel error while connected: move them now. A lost connection: the ready hook will.
    setTimeout(() => {
      if (!this.conn.ready || this.stopped) return;
      const failed: SharedSubscription<unknown>[] = [];
      void Promise.all(members.filter((m) => this.subs.has(m) && !m.attached).map((m) => m.attach().catch(() => void failed.push(m)))).then(() => {
        if (failed.length) this.retryLater(failed, 500);
      });
    }, 200);
  }

  private async resubscribeAll(): Promise<void> {
    if (this.stopped) return;
    // After a reconnect every old channel is gone (their close events may still be on their way).
    for (const s of this.slots) s.lost();
    this.slots = [];
    this.declarers = this.declarers.map(() => null);
    // One queue failing must not start the whole connection over (measured at 5,600 phones: a quorum queue
    // declaration timed out inside RabbitMQ, which closed the connection; re-subscribing everything in the hook,
    // where any failure restarted the connection, then looped). Failed ones are retried in the background.
    const failed: SharedSubscription<unknown>[] = [];
    await Promise.all([...this.subs].map((s) => s.attach().catch(() => void failed.push(s))));
    if (failed.length) this.retryLater(failed, 500);
  }

  /** Subscriptions whose (re)subscribe failed try again with backoff while the connection lasts. */
  private retryLater(subs: SharedSubscription<unknown>[], delayMs: number): void {
    this.logger.warn({ subscriptions: subs.length, retryInMs: delayMs }, 'shared consumers could not subscribe; retrying');
    setTimeout(() => {
      if (this.stopped || !this.conn.ready) return; // the next ready hook takes them all
      const again: SharedSubscription<unknown>[] = [];
      void Promise.all(subs.filter((s) => this.subs.has(s) && !s.attached).map((s) => s.attach().catch(() => void again.push(s)))).then(() => {
        if (again.length) this.retryLater(again, Math.min(delayMs * 2, 10_000));
      });
    }, delayMs).unref();
  }
}
