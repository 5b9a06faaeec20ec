import type { Channel } from 'amqplib';
import type { BrokerConnection } from '@domaeka/broker';
import type { QueueDepth } from '@domaeka/broker/contracts';
import { LazyChannel } from '../bus/channels.js';

/**
 * A queue found missing is not asked about again for this long: each miss
 * costs a channel, and most devices' reply queues do not exist until their
 * phone connects. Short, because a queue that appears right after a miss
 * (a phone connecting) should show on the dashboard within seconds.
 */
const MISSING_MS = 5_000;

/**
 * Depth and consumers of named queues by a passive declare (`checkQueue`)
 * on a channel of its own: the broker closes a channel that asks about a
 * missing queue (or another connection's exclusive one), so that channel
 * is opened again for the next name and the name is skipped for a while.
 * Inspections run one at a time (a miss would break a concurrent one).
 */
export class QueueInspector {
  private readonly channel: LazyChannel;
  private readonly missing = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    conn: BrokerConnection,
    private readonly clock: () => number = Date.now,
  ) {
    this.channel = new LazyChannel(conn);
  }

  inspect(queues: string[]): Promise<QueueDepth[]> {
    const run = this.chain.then(() => this.run(queues));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.channel.close();
  }

  private async run(queues: string[]): Promise<QueueDepth[]> {
    const now = this.clock();
    for (const [name, until] of this.missing) if (until <= now) this.missing.delete(name);
    const out: QueueDepth[] = [];
    for (const name of new Set(queues)) {
      if (this.missing.has(name)) continue;
      let ch: Channel;
      try {
        ch = await this.channel.get();
      } catch {
        break; // broker away: report what we have
      }
      try {
        const q = await ch.checkQueue(name);
        out.push({ name, messages: q.messageCount, consumers: q.consumerCount });
      } catch (err) {
        this.channel.drop(ch);
        const code = (err as { code?: number }).code;
        // 404 missing, 405 exclusive to another connection; anything else (connection lost) is not remembered.
        if (code === 404 || code === 405 || /NOT_FOUND|RESOURCE_LOCKED/.test(String(err))) this.missing.set(name, now + MISSING_MS);
      }
    }
    return out;
  }
}
