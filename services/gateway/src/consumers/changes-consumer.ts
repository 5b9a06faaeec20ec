import { Consumer, messages, names, routingKeys, type BrokerConnection, type ChangedPayload, type Publisher } from '@domaeka/broker';
import type { BotDirectory } from '../bots/bot-directory.js';

/**
 * Listens to `changed` telemetry (an exclusive, auto-delete queue of our
 * own, no acks) and drops the bot cache entries it names. Connections of a
 * dropped bot re-read it before their next packet (key rotated, disabled).
 */
export function createChangesConsumer(conn: BrokerConnection, publisher: Publisher, prefix: string, bots: BotDirectory): Consumer<ChangedPayload> {
  const n = names(prefix);
  return new Consumer<ChangedPayload>(conn, publisher, {
    queue: async (ch) => {
      const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await ch.bindQueue(q.queue, n.changes, routingKeys.changed);
      return q.queue;
    },
    def: messages.changed,
    prefetch: 100,
    noAck: true,
    handler: async (env) => {
      const p = env.payload;
      if (p.entity !== 'bot') return;
      if (p.botId) bots.invalidateBot(p.botId);
      else if (p.tenantId) bots.invalidateTenant(p.tenantId);
      else bots.invalidateAll();
    },
  });
}
