import { BrokerConnection, Publisher, assertTopology, topology } from '@domaeka/broker';
import type { Logger } from 'pino';

/** Connects to RabbitMQ, asserts the topology (idempotent) and returns a publisher. */
export async function connectBroker(opts: { url: string; prefix: string; name: string; logger: Logger }) {
  const conn = new BrokerConnection({ url: opts.url, connectionName: opts.name, logger: opts.logger });
  await conn.onReady(async () => {
    const ch = await conn.createChannel();
    try {
      await assertTopology(ch, topology(opts.prefix));
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
  await conn.start();
  const publisher = new Publisher(conn, opts.prefix);
  return { conn, publisher };
}
