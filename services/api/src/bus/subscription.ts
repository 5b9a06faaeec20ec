import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { Consumer, names, type BrokerConnection, type MessageDef, type Publisher } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';

/**
 * Every queue this API process reads goes through here: its own telemetry
 * queues (`subscribeTelemetry`) and the dead-letter queue
 * (`QueueSubscription`). Channels for anything else (binds, passive
 * declares, one-off declares) are in `channels.ts`.
 */

export interface TelemetrySubscriptionOptions<P> {
  def: MessageDef;
  /** The exchange (default `<prefix>.telemetry`; `changes` for the `changed` notices). */
  exchange?: 'telemetry' | 'changes';
  /**
   * Bound on `<prefix>.telemetry` at every (re)subscription. A function is
   * asked each time: bindings that change while the process runs (the live
   * tail's tenants) are bound again after a reconnect.
   */
  routingKeys: readonly string[] | (() => Iterable<string>);
  /** The most messages the broker pushes ahead (no acks, so only a cap on what sits in this process). */
  prefetch: number;
  /** `x-max-length`: a process that falls behind drops the oldest instead of piling them up. Omitted: no cap. */
  maxLength?: number;
  handle: (payload: P) => void;
}

/**
 * Telemetry for this API process alone: a server-named queue, exclusive and
 * auto-deleted (it goes with the connection), declared and bound again
 * after every reconnect, consumed without acks (telemetry may be dropped,
 * never blocks anyone). The broker's Consumer does the rest: schema check,
 * re-subscribing after a reconnect or a broker cancel.
 */
export function subscribeTelemetry<P>(conn: BrokerConnection, publisher: Publisher, prefix: string, opts: TelemetrySubscriptionOptions<P>): Consumer<P> {
  const exchange = names(prefix)[opts.exchange ?? 'telemetry'];
  const declare: Options.AssertQueue = { exclusive: true, autoDelete: true, durable: false };
  if (opts.maxLength !== undefined) declare.arguments = { 'x-max-length': opts.maxLength };
  return new Consumer<P>(conn, publisher, {
    def: opts.def,
    queue: async (ch: Channel) => {
      const { queue } = await ch.assertQueue('', declare);
      const keys = typeof opts.routingKeys === 'function' ? opts.routingKeys() : opts.routingKeys;
      for (const key of keys) await ch.bindQueue(queue, exchange, key);
      return queue;
    },
    prefetch: opts.prefetch,
    noAck: true,
    exclusive: true,
    handler: async (env) => opts.handle(env.payload),
  });
}

export interface QueueSubscriptionOptions {
  queue: string;
  /** Unacked messages held at most. */
  prefetch: number;
  /** Names the subscription in log lines (`<name> channel error`). */
  name: string;
  logger: Logger;
  /**
   * Handles one message and acks it on `ch` when done with it; while it
   * works, `holds(ch)` says whether the channel is still this
   * subscription's (if not, the broker redelivers the message: give up).
   */
  handle: (msg: ConsumeMessage, ch: Channel) => Promise<void>;
}

/**
 * A shared queue read as raw messages with manual acks, for what the
 * schema-checking Consumer cannot take (a dead letter can be anything:
 * that is often why it died). Subscribed on every (re)connect on a channel
 * of its own; cancelled by the broker (queue deleted), it subscribes again
 * on a fresh channel. `stop()` closes the channel (unacked messages go back
 * to the queue) and waits for the handlers in progress.
 */
export class QueueSubscription {
  private ch: Channel | null = null;
  private stopped = false;
  private readonly hook = () => this.subscribe();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly conn: BrokerConnection,
    private readonly opts: QueueSubscriptionOptions,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.conn.onReady(this.hook);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.conn.offReady(this.hook);
    const ch = this.ch;
    this.ch = null;
    if (ch) await ch.close().catch(() => undefined);
    await Promise.all([...this.inflight]);
  }

  /** True while `ch` is the channel of this running subscription. */
  holds(ch: Channel): boolean {
    return !this.stopped && this.ch === ch;
  }

  private async subscribe(): Promise<void> {
    if (this.stopped) return;
    const { queue, name, logger } = this.opts;
    const ch = await this.conn.createChannel();
    if (this.stopped) {
      await ch.close().catch(() => undefined);
      return;
    }
    ch.on('error', (err) => logger.warn({ err: String(err), queue }, `${name} channel error`));
    ch.on('close', () => {
      if (this.ch === ch) this.ch = null;
    });
    await ch.prefetch(this.opts.prefetch);
    this.ch = ch;
    await ch.consume(queue, (msg) => {
      if (!msg) {
        // Cancelled by the broker (queue deleted): subscribe again on a fresh channel.
        if (this.ch === ch && !this.stopped) {
          this.ch = null;
          void ch.close().catch(() => undefined);
          setTimeout(() => void this.subscribe().catch((err) => logger.warn({ err: String(err) }, `${name} resubscribe failed`)), 500).unref();
        }
        return;
      }
      const p = this.opts.handle(msg, ch).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    });
  }
}
