import { BrokerConnection, Publisher, assertTopology, topology } from '@domaeka/broker';
import type { Logger } from 'pino';

/** Asserts the topology (idempotent) on the first connect and after every reconnect, before anything publishes. */
export async function assertTopologyOnConnect(conn: BrokerConnection, prefix: string): Promise<void> {
  await conn.onReady(async () => {
    const ch = await conn.createChannel();
    try {
      await assertTopology(ch, topology(prefix));
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
}

/** Connects to RabbitMQ (waiting until it answers), asserts the topology and returns a publisher. */
export async function connectBroker(opts: { url: string; prefix: string; name: string; logger: Logger }) {
  const conn = new BrokerConnection({ url: opts.url, connectionName: opts.name, logger: opts.logger });
  await assertTopologyOnConnect(conn, opts.prefix);
  await conn.start();
  const publisher = new Publisher(conn, opts.prefix);
  return { conn, publisher };
}
