import type { Channel } from 'amqplib';
import type { BrokerConnection } from '@domaeka/broker';

/**
 * Channels of this API process for broker calls that read no queue
 * (subscriptions are in `subscription.ts`): one-off declares and deletes,
 * binds, passive declares.
 */

/** Runs `fn` on a channel of its own, closed afterwards whatever happened. */
export async function withChannel<T>(conn: BrokerConnection, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const ch = await conn.createChannel();
  try {
    return await fn(ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/**
 * One channel kept for a kind of call, opened on first use and again after
 * it closed: the broker closes a channel whose call it refuses (a passive
 * declare of a missing queue), and a lost connection takes it too. Its
 * errors are expected, so they are swallowed here (without a listener
 * amqplib would throw them); the caller sees the failed call itself.
 */
export class LazyChannel {
  private ch: Channel | null = null;

  constructor(private readonly conn: BrokerConnection) {}

  async get(): Promise<Channel> {
    if (this.ch) return this.ch;
    const ch = await this.conn.createChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => {
      if (this.ch === ch) this.ch = null;
    });
    this.ch = ch;
    return ch;
  }

  /** After a failed call: the next `get()` opens a new channel (only if `ch`, when given, is still the current one). */
  drop(ch?: Channel): void {
    if (!ch || this.ch === ch) this.ch = null;
  }

  async close(): Promise<void> {
    const ch = this.ch;
    this.ch = null;
    if (ch) await ch.close().catch(() => undefined);
  }
}
