import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from './connection.js';
import type { Publisher } from './publisher.js';
import { validationError, type MessageDef } from './catalog.js';
import type { EnvelopeOf } from './schemas/envelope.js';
import { failureKindOf } from './errors.js';
import { AckBatcher } from './ack-batcher.js';

export interface ConsumerOptions<P> {
  /** Queue name, or a setup function that declares a queue and returns its name (run on every reconnect). */
  queue: string | ((ch: Channel) => Promise<string>);
  def: MessageDef;
  handler: (env: EnvelopeOf<P>, msg: ConsumeMessage) => Promise<void>;
  /** Bounded prefetch: the most unacked messages this consumer holds. */
  prefetch: number;
  /** Telemetry consumers ack nothing and drop what fails. */
  noAck?: boolean;
  exclusive?: boolean;
  /** Extra classification for errors the handler throws (e.g. database errors). */
  classify?: (err: unknown) => 'dependency' | 'poison' | 'refuse' | undefined;
  /**
   * Refused messages go to the dead-letter exchange (default). `false`: they
   * are logged and dropped; for RPC calls, whose deadline is seconds away
   * (a replay could never run) and which may carry a tenant's secrets.
   */
  deadLetter?: boolean;
  /** Called when a dependency is found down / back (for readiness). */
  onDependency?: (down: boolean) => void;
  maxRetryBackoffMs?: number;
}

/**
 * Consumes one queue: parse, validate against the catalog schema, run the
 * handler, then ack. Invalid messages are dead-lettered with the reason;
 * dependency failures hold the message and retry; other failures nack and
 * let the queue's delivery limit catch poison. Re-subscribes after a
 * reconnect and after the broker cancels the consumer. Acks are gathered
 * per turn of the event loop (AckBatcher: `multiple` where it is safe).
 */
export class Consumer<P> {
  private ch: Channel | null = null;
  private tag: string | null = null;
  private paused = false;
  private stopped = false;
  private queueName: string | null = null;
  private readonly hook = () => this.subscribe();
  private inflight = 0;
  /** The acks of each channel (a new channel starts with none: the broker redelivers what the old one held). */
  private readonly acks = new WeakMap<Channel, AckBatcher<ConsumeMessage>>();

  constructor(
    private readonly conn: BrokerConnection,
    private readonly publisher: Publisher,
    private readonly opts: ConsumerOptions<P>,
  ) {}

  get queue(): string | null {
    return this.queueName;
  }

  get pending(): number {
    return this.inflight;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.conn.onReady(this.hook);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.conn.offReady(this.hook);
    const ch = this.ch;
    this.ch = null;
    // Acks gathered this turn go out before the channel closes (else those messages would be delivered again).
    if (ch) this.acks.get(ch)?.flush();
    if (ch) await ch.close().catch(() => undefined);
  }

  /** Takes no more messages; those already held stay unacked until handled. */
  async pause(): Promise<void> {
    this.paused = true;
    if (this.ch && this.tag) {
      const tag = this.tag;
      this.tag = null;
      await this.ch.cancel(tag).catch(() => undefined);
    }
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    if (this.ch && !this.tag) await this.consume(this.ch);
  }

  private async subscribe(): Promise<void> {
    if (this.stopped) return;
    const ch = await this.conn.createChannel();
    // stop() may have run while the channel was opening: nobody else would close it.
    if (this.stopped) {
      await ch.close().catch(() => undefined);
      return;
    }
    ch.on('error', (err) => this.conn.logger.warn({ err: String(err), queue: this.queueName }, 'consumer channel error'));
    ch.on('close', () => {
      if (this.ch === ch) {
        this.ch = null;
        this.tag = null;
      }
    });
    if (!this.opts.noAck) {
      await ch.prefetch(this.opts.prefetch);
      const safely = (f: () => void) => {
        try {
          f();
        } catch {
          /* channel gone: the broker redelivers, dedupe handles it */
        }
      };
      this.acks.set(ch, new AckBatcher<ConsumeMessage>({ ack: (m, all) => safely(() => ch.ack(m, all)), nack: (m, all, rq) => safely(() => ch.nack(m, all, rq)) }));
    }
    this.queueName = typeof this.opts.queue === 'string' ? this.opts.queue : await this.opts.queue(ch);
    if (this.stopped) {
      await ch.close().catch(() => undefined);
      return;
    }
    this.ch = ch;
    if (!this.paused) await this.consume(ch);
  }

  private async consume(ch: Channel): Promise<void> {
    const queue = this.queueName!;
    const { consumerTag } = await ch.consume(
      queue,
      (msg) => {
        if (msg === null) {
          // The broker cancelled us (queue deleted, failover): subscribe again.
          if (this.ch === ch) this.tag = null;
          if (!this.stopped && !this.paused) {
            setTimeout(() => {
              if (this.ch === ch && !this.tag) this.consume(ch).catch(() => undefined);
            }, 500);
          }
          return;
        }
        this.acks.get(ch)?.delivered(msg);
        void this.handle(ch, msg);
      },
      { noAck: this.opts.noAck ?? false, exclusive: this.opts.exclusive ?? false },
    );
    this.tag = consumerTag;
  }

  private async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const queue = this.queueName ?? '?';
    this.inflight++;
    try {
      let env: unknown;
      try {
        env = JSON.parse(msg.content.toString('utf8'));
      } catch {
        return await this.refuse(ch, msg, 'invalid JSON');
      }
      const invalid = validationError(this.opts.def, env);
      if (invalid) return await this.refuse(ch, msg, invalid);

      let backoff = 100;
      for (;;) {
        try {
          await this.opts.handler(env as EnvelopeOf<P>, msg);
          if (backoff > 100) this.opts.onDependency?.(false);
          this.ack(ch, msg);
          return;
        } catch (err) {
          const kind = this.opts.classify?.(err) ?? failureKindOf(err);
          if (kind === 'refuse') return await this.refuse(ch, msg, (err as Error).message ?? String(err));
          if (kind === 'poison' || this.opts.noAck) {
            this.conn.logger.error({ err: String(err), queue, messageId: msg.properties.messageId }, 'handler failed');
            if (!this.opts.noAck && this.ch === ch) this.acks.get(ch)?.nack(msg);
            return;
          }
          // Dependency down: hold the message, retry until it works or the channel is gone
          // (then the broker redelivers it). No nack: that would burn the delivery limit.
          this.opts.onDependency?.(true);
          if (this.ch !== ch || this.stopped) return;
          this.conn.logger.warn({ err: String(err), queue, retryInMs: backoff }, 'dependency down; holding message');
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, this.opts.maxRetryBackoffMs ?? 3000);
          if (this.ch !== ch || this.stopped) return;
        }
      }
    } finally {
      this.inflight--;
    }
  }

  private ack(ch: Channel, msg: ConsumeMessage): void {
    if (this.opts.noAck || this.ch !== ch) return;
    this.acks.get(ch)?.ack(msg);
  }

  private async refuse(ch: Channel, msg: ConsumeMessage, reason: string): Promise<void> {
    const queue = this.queueName ?? '?';
    const keep = this.opts.deadLetter !== false;
    this.conn.logger.warn({ queue, reason, messageId: msg.properties.messageId }, keep ? 'message refused; dead-lettered' : 'message refused; dropped');
    if (this.opts.noAck) return;
    if (!keep) return this.ack(ch, msg);
    try {
      await this.publisher.deadLetter(msg, queue, reason);
      this.ack(ch, msg);
    } catch (err) {
      // Could not record it: leave it to redelivery rather than lose it.
      if (this.ch === ch) this.acks.get(ch)?.nack(msg);
      this.conn.logger.error({ err: String(err), queue }, 'dead-lettering failed');
    }
  }
}
