import type { Channel, ConsumeMessage } from 'amqplib';
import { validationError, type MessageDef } from '../catalog.js';
import { failureKindOf } from '../errors.js';
import type { EnvelopeOf } from '../schemas/envelope.js';
import type { ConsumerSlot } from './consumer-slot.js';

export interface SharedSubscriptionOptions<P> {
  /** Declares the queue (on a declaring channel, never the shared one) and returns its name; run on every (re)subscribe. */
  queue: (ch: Channel) => Promise<string>;
  def: MessageDef;
  handler: (env: EnvelopeOf<P>, msg: ConsumeMessage) => Promise<void>;
  classify?: (err: unknown) => 'dependency' | 'poison' | 'refuse' | undefined;
}

/** What a subscription needs of its pool (ConsumerChannels). */
export interface SubscriptionHost {
  slotFor(sub: SharedSubscription<unknown>): Promise<ConsumerSlot>;
  declare(setup: (ch: Channel) => Promise<string>): Promise<string>;
  deadLetter(msg: ConsumeMessage, queue: string, reason: string): Promise<void>;
  forget(sub: SharedSubscription<unknown>): void;
  readonly logger: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

const MAX_BACKOFF_MS = 3000;

/**
 * One queue consumed on a channel it shares with other subscriptions
 * (ConsumerChannels). What differs from a Consumer with a channel of its
 * own is leaving: closing the channel would return the held messages of
 * every subscription on it, so `stop()` cancels this consumer
 * (basic.cancel; after cancel-ok the broker sends it nothing more), then
 * nacks with requeue every delivery it still holds, those that arrived
 * before the cancel-ok included. A handler that finishes after that is
 * not acked (its delivery went back already; acking an unknown tag would
 * close the shared channel).
 *
 * Messages are validated as Consumer does: invalid ones dead-lettered with
 * the reason, a dependency failure held and retried (no nack: it would
 * burn the delivery limit) until it works or the subscription stops, a
 * poison failure nacked for the delivery limit to catch.
 */
export class SharedSubscription<P> {
  private slot: ConsumerSlot | null = null;
  private tag: string | null = null;
  private queueName: string | null = null;
  private attaching: Promise<void> | null = null;
  private stopped = false;
  /** Delivered on the current slot and not yet acked or nacked by us. */
  private readonly held = new Set<ConsumeMessage>();
  private wake: Set<() => void> = new Set();

  constructor(
    private readonly host: SubscriptionHost,
    private readonly opts: SharedSubscriptionOptions<P>,
  ) {}

  get queue(): string | null {
    return this.queueName;
  }

  /** Consuming on a live channel. */
  get attached(): boolean {
    return this.slot !== null && !this.slot.closed && this.tag !== null;
  }

  /** Subscribes on a shared channel (again after a reconnect or a channel error: the pool calls it). */
  attach(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.attaching) return this.attaching;
    const p = this.doAttach().finally(() => {
      if (this.attaching === p) this.attaching = null;
    });
    this.attaching = p;
    return p;
  }

  private async doAttach(): Promise<void> {
    if (this.attached) return;
    const queue = await this.host.declare(this.opts.queue);
    this.queueName = queue;
    if (this.stopped) return;
    const slot = await this.host.slotFor(this as SharedSubscription<unknown>);
    if (this.stopped || slot.closed) {
      slot.leave(this as SharedSubscription<unknown>);
      // A channel that closed under us (the connection went) is a failed subscribe, never a silent
      // success: a reconnect's re-subscribe may be waiting on this very attach, and only a throw
      // makes the pool try again.
      if (!this.stopped) throw new Error('shared channel closed while subscribing');
      return;
    }
    this.slot = slot;
    this.held.clear();
    const { consumerTag } = await slot.ch.consume(queue, (msg) => this.onMessage(slot, msg), { noAck: false });
    if (this.slot === slot) this.tag = consumerTag;
  }

  /** The slot's channel closed (connection lost, channel error): the broker took back what we held. */
  detached(slot: ConsumerSlot): void {
    if (this.slot !== slot) return;
    this.slot = null;
    this.tag = null;
    this.held.clear();
  }

  /**
   * Stops consuming and gives back what this subscription holds, leaving
   * the shared channel open. Resolves once the broker confirmed the cancel
   * and every held delivery was nacked with requeue.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.host.forget(this as SharedSubscription<unknown>);
    // Never stop an attach half-way: its consumer would be left on a channel nobody cancels.
    await this.attaching?.catch(() => undefined);
    const slot = this.slot;
    if (!slot) return;
    if (this.tag && !slot.closed) {
      const tag = this.tag;
      await slot.ch.cancel(tag).catch(() => undefined);
    }
    this.tag = null;
    for (const msg of this.held) slot.nack(msg);
    this.held.clear();
    for (const w of this.wake) w();
    slot.leave(this as SharedSubscription<unknown>);
    this.slot = null;
  }

  private onMessage(slot: ConsumerSlot, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (queue deleted, leader moved): subscribe again, on the same slot's place.
      if (this.slot !== slot || this.stopped) return;
      this.tag = null;
      setTimeout(() => {
        if (this.slot === slot && !this.tag && !this.stopped && !slot.closed) {
          this.slot = null;
          slot.leave(this as SharedSubscription<unknown>);
          this.attach().catch((err) => this.host.logger.warn({ err: String(err), queue: this.queueName }, 'shared consumer re-subscribe failed'));
        }
      }, 500);
      return;
    }
    slot.delivered(msg);
    if (this.stopped || this.slot !== slot) {
      // Arrived between our basic.cancel and its cancel-ok: straight back.
      slot.nack(msg);
      return;
    }
    this.held.add(msg);
    void this.handle(slot, msg);
  }

  /** Settles a delivery we still hold (on the slot it came from); false when it was given back already. */
  private settle(slot: ConsumerSlot, msg: ConsumeMessage, how: 'ack' | 'nack'): boolean {
    if (this.slot !== slot || !this.held.delete(msg)) return false;
    if (how === 'ack') slot.ack(msg);
    else slot.nack(msg);
    return true;
  }

  private async handle(slot: ConsumerSlot, msg: ConsumeMessage): Promise<void> {
    let env: unknown;
    try {
      env = JSON.parse(msg.content.toString('utf8'));
    } catch {
      return this.refuse(slot, msg, 'invalid JSON');
    }
    const invalid = validationError(this.opts.def, env);
    if (invalid) return this.refuse(slot, msg, invalid);
    let backoff = 100;
    for (;;) {
      try {
        await this.opts.handler(env as EnvelopeOf<P>, msg);
        this.settle(slot, msg, 'ack');
        return;
      } catch (err) {
        const kind = this.opts.classify?.(err) ?? failureKindOf(err);
        if (kind === 'refuse') return this.refuse(slot, msg, (err as Error).message ?? String(err));
        if (kind === 'poison') {
          this.host.logger.error({ err: String(err), queue: this.queueName, messageId: msg.properties.messageId }, 'handler failed');
          this.settle(slot, msg, 'nack');
          return;
        }
        // Dependency down: hold it and retry; stop() gives it back.
        if (this.stopped || this.slot !== slot) {
          this.settle(slot, msg, 'nack');
          return;
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            this.wake.delete(done);
            resolve();
          };
          const t = setTimeout(done, backoff);
          this.wake.add(done);
        });
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (this.stopped || this.slot !== slot || !this.held.has(msg)) {
          this.settle(slot, msg, 'nack');
          return;
        }
      }
    }
  }

  private async refuse(slot: ConsumerSlot, msg: ConsumeMessage, reason: string): Promise<void> {
    const queue = this.queueName ?? '?';
    this.host.logger.warn({ queue, reason, messageId: msg.properties.messageId }, 'message refused; dead-lettered');
    try {
      await this.host.deadLetter(msg, queue, reason);
      this.settle(slot, msg, 'ack');
    } catch (err) {
      this.settle(slot, msg, 'nack');
      this.host.logger.error({ err: String(err), queue }, 'dead-lettering failed');
    }
  }
}
