import type { AddressInfo } from 'node:net';
import {
  brokerReadiness,
  openBroker,
  RunnerClient,
  type AnalyzePayload,
  type BrokerConnection,
  type ChangedPayload,
  type Consumer,
  type ScheduleFirePayload,
} from '@domaeka/broker';
import { SecretBox, createLogger, createMetricsRegistry, createOpsServer, createPool, type Logger } from '@domaeka/core';
import { AnswerReplier, EgressPolicy } from '@domaeka/calls';
import { HeldEvents } from './approvals/held-events.js';
import { HeldRelease } from './approvals/held-release.js';
import { BotContext } from './bots/bot-context.js';
import type { Clock } from './cache/ttl-cache.js';
import { CommandCache } from './commands/command-cache.js';
import type { DispatcherConfig } from './config.js';
import { createAnalyzeConsumer } from './consumers/analyze-consumer.js';
import { createChangesConsumer } from './consumers/changes-consumer.js';
import { createScheduleConsumer } from './consumers/schedule-consumer.js';
import { ScheduleFireService } from './dispatch/schedule-fire-service.js';
import { ScheduleRooms } from './schedules/schedule-rooms.js';
import { DispatchService } from './dispatch/dispatch-service.js';
import { DispatcherMetrics, type DispatchCounters } from './metrics.js';
import { OutboxStore } from './outbox/outbox-store.js';
import { hotPathUrl } from './outbox/hot-path.js';
import { RetentionJob } from './retention/retention-job.js';
import { SecretCache } from './secrets/secret-cache.js';
import { EgressCache } from './egress/egress-cache.js';
import { ReplyPublisher } from './replies/reply-publisher.js';
import { SendDelivery } from './sends/send-delivery.js';
import { HttpTarget } from './targets/http-target.js';
import { ReplyTarget } from './targets/reply-target.js';
import { SandboxTarget } from './targets/sandbox-target.js';

export interface DispatcherOptions {
  /** Time for cache expiry and the KST day quotas count on (tests move it instead of sleeping or waiting for midnight). */
  clock?: Clock;
  logger?: Logger;
}

export interface Dispatcher {
  /** Connects to the broker, starts consuming and listens on the ops port. */
  start(): Promise<void>;
  /** Stops taking events, lets those in hand finish (bounded), then closes everything. */
  stop(): Promise<void>;
  /** The bound ops port (/healthz, /readyz, /metrics); valid after start(). */
  readonly httpPort: number;
  readonly counters: Readonly<DispatchCounters>;
  /** Commands of pending phones kept until approval (tests look in). */
  readonly held: HeldEvents;
}

/** How long stop() waits for events in hand before closing (the broker redelivers what is left). */
const DRAIN_MS = 5000;
/** After the last call stopped waiting for a runner, how long sandbox calls over a tenant's cap still pass (the backlog drains). */
const OUTAGE_DRAIN_MS = 10_000;

export function buildDispatcher(config: DispatcherConfig, opts: DispatcherOptions = {}): Dispatcher {
  const clock = opts.clock ?? Date.now;
  const logger = opts.logger ?? createLogger('dispatcher', config.logLevel);
  const pool = createPool(hotPathUrl(config.databaseUrl), config.dbPoolSize);
  const claimPool = createPool(hotPathUrl(config.databaseUrl, { asyncCommit: true }), Math.max(2, Math.ceil(config.dbPoolSize / 4)));
  const registry = createMetricsRegistry('dispatcher');
  const metrics = new DispatcherMetrics(registry);
  const ttls = { ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs };
  const bots = new BotContext(pool, clock, ttls);
  // Commands of phones awaiting approval, answered once approved (set up with the broker: they go out as analyze events).
  const held = new HeldEvents(clock);
  let release: HeldRelease | null = null;
  const box = new SecretBox(config.secretsKey);
  const commands = new CommandCache(pool, box, logger, clock, config.cacheTtlMs);
  const secrets = new SecretCache(pool, box, logger, clock, config.cacheTtlMs);
  const egressDomains = new EgressCache(pool, clock, config.cacheTtlMs);
  const outbox = new OutboxStore(pool, claimPool, clock);
  const egress = new EgressPolicy({ allow: config.egressAllow });
  const http = new HttpTarget(egress);
  const retention = new RetentionJob(pool, logger, {
    intervalMs: config.retentionIntervalMs,
    outboxDays: config.outboxRetentionDays,
    batch: 5000,
  });
  const caches = {
    invalidate(change: ChangedPayload) {
      if (change.entity === 'commands') commands.invalidate(change.tenantId);
      else if (change.entity === 'secrets') secrets.invalidate(change.tenantId);
      else if (change.entity === 'egress') egressDomains.invalidate(change.tenantId);
      else {
        bots.invalidate(change);
        if (change.entity === 'device') void release?.devicesChanged(change.botId);
      }
    },
    clear() {
      commands.clear();
      secrets.clear();
      egressDomains.clear();
      bots.clear();
    },
  };

  let conn: BrokerConnection | null = null;
  let analyze: Consumer<AnalyzePayload> | null = null;
  let changes: Consumer<ChangedPayload> | null = null;
  let scheduleFires: Consumer<ScheduleFirePayload> | null = null;
  let runners: RunnerClient | null = null;
  let port = 0;

  const ops = createOpsServer(
    {
      broker: () => brokerReadiness(conn),
      database: async () => {
        await pool.query('select 1');
        return true;
      },
    },
    registry,
  );

  return {
    get httpPort() {
      return port;
    },
    counters: metrics.counters,
    held,

    async start() {
      // HTTP first: /healthz and /readyz answer (503 with the reason) while the broker is away.
      await ops.listen({ port: config.httpPort, host: config.httpHost });
      port = (ops.server.address() as AddressInfo).port;
      // Connects in the background: consumers subscribe when it comes (and after every reconnect); /readyz says why not yet.
      const broker = await openBroker({ url: config.amqpUrl, prefix: config.brokerPrefix, name: 'dispatcher', logger });
      conn = broker.conn;
      // Runner heartbeats and RPC results, before the first event can need a runner.
      runners = new RunnerClient(broker.conn, broker.publisher, config.brokerPrefix, logger, { metrics: registry });
      await runners.start();
      const targets = { http, sandbox: new SandboxTarget(runners, new AnswerReplier(egress)), reply: new ReplyTarget(new AnswerReplier(egress)) };
      const replies = new ReplyPublisher(broker.publisher, metrics, logger);
      const sends = new SendDelivery({ pool, replies, logger, clock });
      const service = new DispatchService({
        bots,
        commands,
        secrets,
        egress: egressDomains,
        outbox,
        targets,
        replies,
        metrics,
        logger,
        held,
        sends,
        runnerOutage: () => {
          const w = runners?.waitStats();
          // While calls wait, and for a while after: the calls that waited drain through the runner then.
          return !!w && (w.waiting > 0 || Date.now() - w.lastWaitEndedAt < OUTAGE_DRAIN_MS);
        },
      });
      release = new HeldRelease(held, bots, broker.publisher, logger);
      // Changes first: cache invalidation must be live before the first event is handled.
      changes = createChangesConsumer(broker.conn, broker.publisher, config.brokerPrefix, caches);
      await changes.start();
      analyze = createAnalyzeConsumer(broker.conn, broker.publisher, service, {
        prefix: config.brokerPrefix,
        prefetch: config.prefetch,
        onDependency: (down) => {
          metrics.dependencyDown.set(down ? 1 : 0);
          if (down) logger.warn({}, 'database down: holding events until it answers');
        },
      });
      await analyze.start();
      const fires = new ScheduleFireService({ bots, commands, secrets, egress: egressDomains, outbox, rooms: new ScheduleRooms(pool), targets, replies, metrics, logger, sends });
      scheduleFires = createScheduleConsumer(broker.conn, broker.publisher, fires, {
        prefix: config.brokerPrefix,
        prefetch: Math.min(config.prefetch, 50),
        onDependency: (down) => metrics.dependencyDown.set(down ? 1 : 0),
      });
      await scheduleFires.start();
      retention.start();
      // Started once connected (or stopped meanwhile): the consumers above subscribed in that connect's setup.
      await broker.conn.start();
      logger.info({ port, prefetch: config.prefetch }, 'dispatcher consuming');
    },

    async stop() {
      retention.stop();
      if (analyze) {
        await analyze.pause();
        const deadline = Date.now() + DRAIN_MS;
        while (analyze.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await analyze.stop();
      }
      if (scheduleFires) {
        await scheduleFires.pause();
        const deadline = Date.now() + DRAIN_MS;
        while (scheduleFires.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await scheduleFires.stop();
      }
      if (changes) await changes.stop();
      if (runners) await runners.stop();
      if (conn) await conn.close();
      await ops.close();
      await Promise.all([pool.end(), claimPool.end()]).catch(() => undefined);
      logger.info({}, 'dispatcher stopped');
    },
  };
}
