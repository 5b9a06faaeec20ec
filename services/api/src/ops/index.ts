import type { BrokerConnection, Publisher, RunnerClient } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import type { Orm } from '../db/em.js';
import { DeadLetterKeeper } from './dead-letter-keeper.js';
import { DeadLetterService } from './dead-letter-service.js';
import { GatewayWatch } from './gateway-watch.js';
import { MetricsService } from './metrics-service.js';
import { QueueInspector } from './queue-inspector.js';
import { RunnerLaneWatch } from './runner-lanes.js';
import { THROTTLE_WINDOW_MIN, ThrottleService } from './throttle-service.js';

/**
 * The platform operator's side of the API (admin only): metrics, dead
 * letters and who is throttled, plus what feeds them from the broker (the
 * dead-letter keeper, the gateways' and runners' heartbeats, a channel for
 * queue depths). `start()` /
 * `stop()` are called by the API's own start and stop.
 */
export class AdminOps {
  readonly deadLetters: DeadLetterService;
  readonly metrics: MetricsService;
  private readonly keeper: DeadLetterKeeper;
  readonly gateways: GatewayWatch;
  private readonly queues: QueueInspector;
  private readonly lanes: RunnerLaneWatch;
  /** Who is being throttled (GET /admin/throttled). */
  readonly throttle: ThrottleService;

  constructor(deps: { orm: Orm; conn: BrokerConnection; publisher: Publisher; brokerPrefix: string; runners: RunnerClient; logger: Logger }) {
    this.deadLetters = new DeadLetterService(deps.orm, deps.publisher, deps.logger);
    this.keeper = new DeadLetterKeeper(deps.conn, deps.brokerPrefix, deps.orm, deps.logger);
    this.gateways = new GatewayWatch(deps.conn, deps.publisher, deps.brokerPrefix);
    this.queues = new QueueInspector(deps.conn);
    this.lanes = new RunnerLaneWatch(deps.conn, deps.publisher, deps.brokerPrefix, THROTTLE_WINDOW_MIN);
    this.throttle = new ThrottleService(deps.orm, this.lanes);
    this.metrics = new MetricsService(deps.orm, deps.brokerPrefix, deps.runners, this.gateways, this.queues, this.deadLetters);
  }

  async start(): Promise<void> {
    await this.gateways.start();
    await this.lanes.start();
    await this.keeper.start();
  }

  async stop(): Promise<void> {
    await this.keeper.stop().catch(() => undefined);
    await this.gateways.stop().catch(() => undefined);
    await this.lanes.stop().catch(() => undefined);
    await this.queues.close().catch(() => undefined);
  }
}
