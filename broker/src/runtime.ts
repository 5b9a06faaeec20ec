import { assertTopology } from './assert-topology.js';
import { BrokerConnection } from './connection.js';
import { Publisher } from './publisher.js';
import { topology } from './topology.js';
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

interface BrokerSpec {
  url: string;
  prefix: string;
  name: string;
  logger: Logger;
  /** One connect attempt's bound (TCP + AMQP handshake); BrokerConnection's default otherwise. */
  connectTimeoutMs?: number;
}

/**
 * The connection and publisher at once, connecting in the background
 * (retrying with backoff, each attempt bounded): a service registers its
 * consumers (setup hooks, rerun on every reconnect) and listens on HTTP
 * without waiting, so /healthz and /readyz answer while the broker is away.
 */
export async function openBroker(opts: BrokerSpec) {
  const conn = new BrokerConnection({ url: opts.url, connectionName: opts.name, logger: opts.logger, connectTimeoutMs: opts.connectTimeoutMs });
  await assertTopologyOnConnect(conn, opts.prefix);
  void conn.start();
  const publisher = new Publisher(conn, opts.prefix);
  return { conn, publisher };
}

/** Connects to RabbitMQ (waiting until it answers or the connection is closed), asserts the topology and returns a publisher. */
export async function connectBroker(opts: BrokerSpec) {
  const broker = await openBroker(opts);
  await broker.conn.start();
  return broker;
}

/** The /readyz check of a service's broker connection (null: not created yet). */
export function brokerReadiness(conn: BrokerConnection | null): true | string {
  return conn ? conn.readiness() : 'starting';
}
