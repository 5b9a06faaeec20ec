import { Consumer, messages, names, routingKeys, type BrokerConnection, type ChangedPayload, type Publisher } from '@domaeka/broker';

export interface CacheOwner {
  /** Drops what the change made stale. */
  invalidate(change: ChangedPayload): void;
  /** Drops everything (changes may have been missed while disconnected). */
  clear(): void;
}

/**
 * `changed` events from `<prefix>.changes` on a private queue of this
 * process (exclusive, auto-delete, no acks: telemetry). After a reconnect
 * the queue is new and changes of the gap were missed, so caches are
 * cleared whenever the queue is (re)declared.
 */
export function createChangesConsumer(conn: BrokerConnection, publisher: Publisher, prefix: string, caches: CacheOwner): Consumer<ChangedPayload> {
  return new Consumer<ChangedPayload>(conn, publisher, {
    queue: async (ch) => {
      const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await ch.bindQueue(queue, names(prefix).changes, routingKeys.changed);
      caches.clear();
      return queue;
    },
    def: messages.changed,
    prefetch: 0,
    noAck: true,
    exclusive: true,
    handler: async (env) => caches.invalidate(env.payload),
  });
}
