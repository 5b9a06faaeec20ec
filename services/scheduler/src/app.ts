import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { brokerReadiness, openBroker, type BrokerConnection } from '@domaeka/broker';
import { createLogger, createMetricsRegistry, createOpsServer, createPool, type Logger } from '@domaeka/core';
import type { SchedulerConfig } from './config.js';
import { FireLoop } from './fires/fire-loop.js';
import { FireStore } from './fires/fire-store.js';
import { SchedulerMetrics } from './metrics.js';

export interface SchedulerOptions {
  /** What time it is (epoch ms): tests move it instead of waiting for the minute. Default: the config's test clock, else Date.now. */
  clock?: () => number;
  logger?: Logger;
  /** Names this instance in `kb_schedule_fires.claimed_by`. */
  instanceId?: string;
}

export interface Scheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One tick now (tests; the timer runs them every `tickMs`). */
  tick(): Promise<void>;
  readonly httpPort: number;
  readonly instanceId: string;
}

function clockOf(config: SchedulerConfig): () => number {
  const c = config.testClock;
  if (!c) return Date.now;
  return () => c.startMs + (Date.now() - c.anchorMs) * c.speed;
}

export function buildScheduler(config: SchedulerConfig, opts: SchedulerOptions = {}): Scheduler {
  const logger = opts.logger ?? createLogger('scheduler', config.logLevel);
  const instanceId = opts.instanceId ?? `scheduler-${randomUUID().slice(0, 8)}`;
  const clock = opts.clock ?? clockOf(config);
  const pool = createPool(config.databaseUrl, config.dbPoolSize);
  const registry = createMetricsRegistry('scheduler');
  const metrics = new SchedulerMetrics(registry);
  const store = new FireStore(pool);
  let conn: BrokerConnection | null = null;
  let loop: FireLoop | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
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

  const tick = async (): Promise<void> => {
    if (!loop) return;
    // One tick at a time per instance; the next waits for this one.
    running ??= loop.tick().catch((err: unknown) => {
      metrics.tickErrors.inc();
      logger.warn({ err: String(err) }, 'scheduler tick failed; retried next tick');
    }).finally(() => {
      running = null;
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void tick().finally(schedule), config.tickMs);
  };

  return {
    get httpPort() {
      return port;
    },
    instanceId,
    tick,

    async start() {
      await ops.listen({ port: config.httpPort, host: config.httpHost });
      port = (ops.server.address() as AddressInfo).port;
      const broker = await openBroker({ url: config.amqpUrl, prefix: config.brokerPrefix, name: 'scheduler', logger });
      conn = broker.conn;
      loop = new FireLoop(store, broker.publisher, metrics, logger, {
        instanceId,
        batch: config.batch,
        republishAfterMs: config.republishAfterMs,
        clock,
        publishDelayMs: config.testPublishDelayMs,
        retentionDays: config.fireRetentionDays,
      });
      await broker.conn.start();
      schedule();
      logger.info({ port, instanceId, tickMs: config.tickMs }, 'scheduler ticking');
    },

    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (conn) await conn.close();
      await ops.close();
      await pool.end().catch(() => undefined);
      logger.info({ instanceId }, 'scheduler stopped');
    },
  };
}
