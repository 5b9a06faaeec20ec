import type { AddressInfo } from 'node:net';
import { assertTopologyOnConnect, BrokerConnection, Publisher, type ChangedPayload, type Consumer } from '@domaeka/broker';
import { SecretBox, createLogger, createOpsServer, createPool, type Logger, type Pool } from '@domaeka/core';
import type { FastifyInstance } from 'fastify';
import { PacketAuthenticator } from './auth/packet-auth.js';
import { ReplayCache } from './auth/replay-cache.js';
import { BotDirectory } from './bots/bot-directory.js';
import { systemClock, type Clock } from './clock.js';
import type { GatewayConfig } from './config.js';
import { createChangesConsumer } from './consumers/changes-consumer.js';
import { createIngressVerifier } from './consumers/ingress-verifier.js';
import { DeviceReplyConsumer } from './consumers/reply-consumer.js';
import { DeviceStore } from './devices/device-store.js';
import { GatewayMetrics, type GatewayStats } from './metrics.js';
import { AnalyzePublisher } from './publishing/analyze-publisher.js';
import { DevicePresence } from './publishing/device-presence.js';
import { GatewayHeartbeat } from './publishing/heartbeat.js';
import { BridgeServer } from './session/bridge-server.js';
import { DeviceRegistry } from './session/device-registry.js';

export interface GatewayOptions {
  /** Wall clock for the signature window, replay cache and reply-id memory. */
  clock?: Clock;
  logger?: Logger;
}

export interface Gateway {
  /** Connects (broker, database), listens on the bridge and ops ports. */
  start(): Promise<void>;
  /** Closes phone connections (replies go back to their queues), waits for held publishes (bounded), disconnects. */
  stop(): Promise<void>;
  /** Bound ports (after start; config ports may be 0). */
  readonly bridgePort: number;
  readonly httpPort: number;
  readonly metrics: GatewayMetrics;
  /** Plain counters: connections, packets, rejected by reason, published, replies. */
  stats(): GatewayStats;
  /** Connections that count (signed) per devices.id. */
  readonly registry: DeviceRegistry;
  readonly broker: BrokerConnection;
}

/** Builds the gateway without listening (tests drive it in-process). */
export function buildGateway(config: GatewayConfig, opts: GatewayOptions = {}): Gateway {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger('gateway', config.logLevel);
  const metrics = new GatewayMetrics();
  const pool: Pool = createPool(config.databaseUrl);
  const broker = new BrokerConnection({ url: config.amqpUrl, connectionName: 'gateway', logger });
  const publisher = new Publisher(broker, config.brokerPrefix);
  const registry = new DeviceRegistry(clock);
  const bots = new BotDirectory(pool, new SecretBox(config.secretsKey), clock);
  const devices = new DeviceStore(pool, logger, config.limits.deviceFlushMs);
  const auth = new PacketAuthenticator(clock, new ReplayCache(clock, config.limits.replayCacheMax));
  const analyze = new AnalyzePublisher(publisher, metrics, logger, config.limits.publishHoldMs);
  const heartbeat = new GatewayHeartbeat(publisher, metrics, registry, () => bridgePort);
  const changes: Consumer<ChangedPayload> = createChangesConsumer(broker, publisher, config.brokerPrefix, bots);
  const ingress = createIngressVerifier({ conn: broker, publisher, prefix: config.brokerPrefix, bots, auth, metrics, logger, prefetch: 50 });
  const replyDeps = { conn: broker, publisher, prefix: config.brokerPrefix, registry, metrics, logger, prefetch: config.limits.replyPrefetch };

  const bridge = new BridgeServer(
    {
      limits: config.limits,
      timezone: config.timezone,
      serverVersion: config.serverVersion,
      clock,
      logger,
      metrics,
      bots,
      devices,
      registry,
      auth,
      analyze,
      presence: new DevicePresence(publisher),
      replyConsumer: (deviceId, sink) => new DeviceReplyConsumer(replyDeps, deviceId, sink),
    },
    config.tls,
    logger,
  );

  const ops: FastifyInstance = createOpsServer(
    {
      broker: () => broker.readiness(),
      // Ready means phones can connect: the bridge listens only after the broker hooks ran (test rigs start phones at ready).
      bridge: () => (bridgePort > 0 ? true : 'not listening yet'),
      database: async () => {
        await pool.query('select 1');
        return true;
      },
    },
    metrics.registry,
  );

  let bridgePort = 0;
  let httpPort = 0;
  let sweeper: NodeJS.Timeout | null = null;

  return {
    get bridgePort() {
      return bridgePort;
    },
    get httpPort() {
      return httpPort;
    },
    metrics,
    registry,
    broker,
    stats: () => metrics.snapshot(),

    async start() {
      // HTTP first: /healthz and /readyz answer (503 with the reason) while the broker is away.
      await ops.listen({ host: config.httpHost, port: config.httpPort });
      httpPort = (ops.server.address() as AddressInfo).port;
      // The topology is asserted on every (re)connect, before anything publishes.
      await assertTopologyOnConnect(broker, config.brokerPrefix);
      void broker.start();
      // Phones are served even while the broker is away (their events wait); give it a moment first.
      await broker.waitReady(5000).catch(() => logger.warn({}, 'broker not reachable yet; serving phones anyway'));
      await changes.start();
      await ingress.start();
      devices.start();
      sweeper = setInterval(() => registry.sweep(), 60_000);
      sweeper.unref();
      bridgePort = await bridge.listen(config.bridgeHost, config.bridgePort);
      // After the listen: the first beat already names the bridge port (the bots page shows it to tenants).
      heartbeat.start();
      logger.info({ bridge: `${config.bridgeHost}:${bridgePort}`, tls: Boolean(config.tls), http: httpPort }, 'gateway listening');
    },

    async stop() {
      if (sweeper) clearInterval(sweeper);
      await bridge.close();
      heartbeat.stop(true);
      await analyze.drain(5000);
      await devices.stop();
      await changes.stop();
      await ingress.stop();
      await broker.close();
      await ops.close();
      await pool.end();
    },
  };
}
