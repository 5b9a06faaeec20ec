import type { AddressInfo } from 'node:net';
import { brokerReadiness, envelope, MAX_PLACEMENT_REPORT, messages, openBroker, routingKeys, type BrokerConnection, type Publisher } from '@domaeka/broker';
import { createLogger, createMetricsRegistry, createOpsServer, createPool, type Logger } from '@domaeka/core';
import { type Resolver } from '@domaeka/calls';
import type { RunnerConfig } from './config.js';
import { createCallConsumer, type CallIntake } from './consumers/call-consumer.js';
import { DockerEngine } from './docker/docker-engine.js';
import { ensureSandboxImage } from './docker/sandbox-image.js';
import { LintRunner } from './lint/lint-runner.js';
import { RunnerMetrics, type RunnerCounters } from './metrics.js';
import { CgroupStats } from './sandbox/cgroup-stats.js';
import { DedicatedRunner, type DedicatedView } from './sandbox/dedicated-runner.js';
import { EphemeralRunner } from './sandbox/ephemeral-runner.js';
import { LiveFeed } from './sandbox/live-feed.js';
import { OrphanReaper } from './sandbox/orphan-reaper.js';
import { SandboxPool } from './sandbox/sandbox-pool.js';
import { SandboxHomes } from './sandbox/sandbox-home.js';
import { EgressPolicies } from './egress/container-egress.js';
import { SandboxStarter } from './sandbox/sandbox-starter.js';
import { StoreDatabase } from './store/store-database.js';
import { StoreRequests } from './store/store-requests.js';
import { StoreSweeper } from './store/store-sweeper.js';
import { DataRouter } from './store/data-requests.js';
import { TableRequests } from './tables/table-requests.js';
import { actAsGateway } from '@domaeka/tenant-data';

export interface RunnerOptions {
  logger?: Logger;
  /** Name resolution of the egress proxy (tests name hosts without DNS); the system resolver otherwise. */
  resolver?: Resolver;
}

export interface Runner {
  /** Checks Docker and the image, connects, reaps orphans, warms the pools, consumes calls, listens on the ops port. */
  start(): Promise<void>;
  /** Takes no more calls, finishes those in hand (bounded), removes its containers, disconnects. */
  stop(): Promise<void>;
  readonly httpPort: number;
  readonly runnerId: string;
  /** The exclusive call queue (routing key on the default exchange). */
  readonly queue: string;
  readonly counters: Readonly<RunnerCounters>;
  /** Ready pooled containers (tests wait for a warm pool with this). */
  poolReady(): number;
  /** Containers reaped at the last start. */
  readonly reaped: number;
  /** Dedicated tenant containers held now. */
  dedicated(): DedicatedView[];
}

/** How long stop() lets calls in hand finish before removing their containers anyway. */
const DRAIN_MS = 10_000;
/** Database connections for the store: a request holds one for its one statement (~0.1-0.5 ms). */
const STORE_POOL_MAX = 10;
/** Database connections for tenant statements: one per statement in flight (up to the plan's timeout). */
const TABLES_POOL_MAX = 16;

export function buildRunner(config: RunnerConfig, opts: RunnerOptions = {}): Runner {
  const logger = opts.logger ?? createLogger('runner', config.logLevel);
  const registry = createMetricsRegistry('runner');
  const metrics = new RunnerMetrics(registry);
  const engine = new DockerEngine(config.dockerHost);
  const instance = Date.now();
  const homes = new SandboxHomes(config.socketDir, config.brokerPrefix, config.runnerId);
  // The store of tenant code (services/runner/README.md "Store"): reached over each container's data socket.
  const db = createPool(config.databaseUrl, STORE_POOL_MAX);
  const storeDb = new StoreDatabase(db);
  const sweeper = new StoreSweeper(storeDb, config.storeSweepMs, logger);
  // Tenant tables (README "Tables"): schemas made on the main pool; statements on a pool of their own (a 5 s statement
  // must not hold the store's connections), the gateway's login when configured.
  const tablesDb = createPool(config.tablesDatabaseUrl ?? config.databaseUrl, TABLES_POOL_MAX);
  // Without the gateway's own login, the main user's connections act as the gateway for their session.
  if (!config.tablesDatabaseUrl) actAsGateway(tablesDb);
  const observe = (op: string, result: string, dbMs: number | null) => metrics.observeStore(op, result, dbMs);
  const data = new DataRouter(new StoreRequests(storeDb, logger, observe), new TableRequests(db, tablesDb, logger, observe));
  const starter = new SandboxStarter(
    engine,
    {
      image: config.sandboxImage,
      runnerId: config.runnerId,
      instance,
      prefix: config.brokerPrefix,
      limits: { pidsLimit: config.pidsLimit, nofile: config.nofile, tmpfsMb: config.tmpfsMb },
      homes,
      policies: new EgressPolicies(config.egressAllow, opts.resolver),
      dedicatedTransport: config.dedicatedTransport,
      store: data,
      storeCallsPerRun: config.storeCallsMax,
    },
    logger,
  );
  const pool = new SandboxPool(starter, config.poolSize, logger);
  const cgroups = new CgroupStats(engine);
  let publisher: Publisher | null = null;
  const live = new LiveFeed(cgroups, {
    stats: (s) => publisher?.publishTelemetry(messages.runnerStats, routingKeys.runnerStats(s.tenantId), envelope(messages.runnerStats, s)),
    output: (o) => publisher?.publishTelemetry(messages.runnerOutput, routingKeys.runnerOutput(o.tenantId), envelope(messages.runnerOutput, o)),
  });
  const ephemeral = new EphemeralRunner({ engine, pool, cgroups, live, logger });
  const dedicated = new DedicatedRunner({
    engine,
    starter,
    cgroups,
    live,
    logger,
    options: { idleMs: config.dedicatedIdleMs, max: config.dedicatedMax },
  });
  const linter = new LintRunner({ pool, logger });

  let conn: BrokerConnection | null = null;
  let calls: CallIntake | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let port = 0;
  let reaped = 0;

  const ops = createOpsServer(
    {
      broker: () => brokerReadiness(conn),
      docker: () => engine.ping(),
      // The store's: a runner without it still runs code, but the code's store calls fail.
      database: async () => {
        await db.query('select 1');
        return true;
      },
      // Ready once it consumes its queue and beats (start() may be waiting for the broker).
      calls: () => (calls ? true : 'starting'),
    },
    registry,
  );

  return {
    get httpPort() {
      return port;
    },
    runnerId: config.runnerId,
    get queue() {
      return calls?.queue ?? '';
    },
    counters: metrics.counters,
    poolReady: () => pool.readyCount(),
    get reaped() {
      return reaped;
    },
    dedicated: () => dedicated.list(),

    async start() {
      // HTTP first: /healthz and /readyz answer (503 with the reason) while Docker or the broker is away.
      await ops.listen({ port: config.httpPort, host: config.httpHost });
      port = (ops.server.address() as AddressInfo).port;
      await engine.ping();
      const imageVersion = await ensureSandboxImage(engine, config.sandboxImage, logger, config.buildImage);
      const broker = await openBroker({ url: config.amqpUrl, prefix: config.brokerPrefix, name: `runner ${config.runnerId}`, logger });
      conn = broker.conn;
      publisher = broker.publisher;
      // The reaper asks the broker which runners live: wait for it (retrying, each attempt bounded; /readyz says why).
      await broker.conn.start();
      if (broker.conn.state.status === 'closed') return; // stopped while waiting
      // Before anything of ours exists, so only the dead lose containers.
      await homes.removeRunner();
      reaped = await new OrphanReaper(
        engine,
        broker.conn,
        { prefix: config.brokerPrefix, runnerId: config.runnerId, instance, reapAll: config.reapAll, deadRunner: (id) => homes.removeRunner(id) },
        logger,
      ).reap();
      metrics.reaped.inc(reaped);
      for (const p of config.warmProfiles) pool.warm(p);
      sweeper.start();

      calls = createCallConsumer({
        conn: broker.conn,
        publisher: broker.publisher,
        prefix: config.brokerPrefix,
        runnerId: config.runnerId,
        capacity: config.capacity,
        ephemeralMax: config.ephemeralMax,
        tenantQueueMax: config.tenantQueueMax,
        ephemeral,
        dedicated,
        linter,
        metrics,
        logger,
      });
      await calls.consumer.start();
      const beat = () => {
        for (const [profile, n] of Object.entries(pool.readyByProfile())) metrics.poolReady.set({ profile }, n);
        metrics.dedicated.set(dedicated.size());
        metrics.waiting.set(calls?.waiting() ?? 0);
        if (!calls?.queue) return;
        const lanes = calls.lanes();
        broker.publisher.publishTelemetry(
          messages.runnerHeartbeat,
          routingKeys.runnerHeartbeat,
          envelope(messages.runnerHeartbeat, {
            runnerId: config.runnerId,
            queue: calls.queue,
            startedAt: instance,
            capacity: config.capacity,
            busy: calls.busy(),
            containers: { pool: pool.readyCount(), ephemeral: ephemeral.active(), dedicated: dedicated.size() },
            ...(lanes.length ? { lanes } : {}),
            dedicatedTenants: dedicated.placed(MAX_PLACEMENT_REPORT),
          }),
        );
      };
      beat();
      heartbeat = setInterval(beat, config.heartbeatMs);
      logger.info({ runnerId: config.runnerId, queue: calls.queue, port, reaped, capacity: config.capacity, imageVersion }, 'runner consuming');
    },

    async stop() {
      if (heartbeat) clearInterval(heartbeat);
      if (calls) {
        await calls.consumer.pause();
        const deadline = Date.now() + DRAIN_MS;
        // Waiting calls too: they start as running ones end.
        while (calls.busy() + calls.waiting() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        calls.abandon();
        await calls.consumer.stop();
      }
      await ephemeral.settle();
      await dedicated.stop();
      await linter.settle();
      await pool.drain();
      await sweeper.stop();
      await db.end().catch(() => undefined);
      await tablesDb.end().catch(() => undefined);
      await homes.removeRunner();
      if (conn) await conn.close();
      await ops.close();
      logger.info({ runnerId: config.runnerId }, 'runner stopped');
    },
  };
}
