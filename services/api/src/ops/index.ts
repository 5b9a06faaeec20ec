import type { BrokerConnection, Publisher } from '@domaeka/broker';
import type { Logger, RunnerClient } from '@domaeka/core';
import type { Orm } from '../services/orm.js';
import { DeadLetterKeeper } from './dead-letter-keeper.js';
import { DeadLetterService } from './dead-letter-service.js';
import { GatewayWatch } from './gateway-watch.js';
import { MetricsService } from './metrics-service.js';
import { QueueInspector } from './queue-inspector.js';

export type { PlatformMetrics } from './metrics-service.js';
export type { DeadLetterDetail, DeadLetterView } from './dead-letter-service.js';

/**
 * The platform operator's side of the API (admin only): metrics and dead
 * letters, plus what feeds them from the broker (the dead-letter keeper,
 * the gateways' heartbeats, a channel for queue depths). `start()` /
 * `stop()` are called by the API's own start and stop.
 */
export class AdminOps {
  readonly deadLetters: DeadLetterService;
  readonly metrics: MetricsService;
  private readonly keeper: DeadLetterKeeper;
  readonly gateways: GatewayWatch;
  private readonly queues: QueueInspector;

  constructor(deps: { orm: Orm; conn: BrokerConnection; publisher: Publisher; brokerPrefix: string; runners: RunnerClient; logger: Logger }) {
    this.deadLetters = new DeadLetterService(deps.orm, deps.publisher, deps.logger);
    this.keeper = new DeadLetterKeeper(deps.conn, deps.brokerPrefix, deps.orm, deps.logger);
    this.gateways = new GatewayWatch(deps.conn, deps.publisher, deps.brokerPrefix);
    this.queues = new QueueInspector(deps.conn);
    this.metrics = new MetricsService(deps.orm, deps.brokerPrefix, deps.runners, this.gateways, this.queues, this.deadLetters);
  }

  async start(): Promise<void> {
    await this.gateways.start();
    await this.keeper.start();
  }

  async stop(): Promise<void> {
    await this.keeper.stop().catch(() => undefined);
    await this.gateways.stop().catch(() => undefined);
    await this.queues.close().catch(() => undefined);
  }
}
