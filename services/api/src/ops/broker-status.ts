import type { BrokerConnection, RunnerClient, RunnerWaitStats } from '@domaeka/broker';
import { requireAdmin } from './tenant-admin-service.js';
import type { Caller } from '../accounts/caller.js';

/** GET /admin/broker: this API process's own broker connection, and its calls that waited for a runner. */
export interface BrokerStatusView {
  status: 'connecting' | 'connected' | 'closed';
  /** Failed connect attempts since the last success. */
  attempts: number;
  /** Why the last attempt failed (e.g. "broker handshake timed out after 10000 ms"); kept after a reconnect. */
  lastError: string | null;
  /** When the status last changed (ISO). */
  since: string;
  /** The RabbitMQ node it is on, or trying (`host:port`; AMQP_URL may list a cluster's nodes). */
  node: string;
  /** Lint and test runs of this API that had to wait for a runner (none alive, its queue gone). */
  runnerWaits: RunnerWaitStats;
}

/**
 * The admin page's broker line. Other services' readiness is their own
 * /readyz; of the runners the API knows only what their heartbeats say
 * (GET /admin/metrics).
 */
export class BrokerStatus {
  constructor(
    private readonly conn: BrokerConnection,
    private readonly runners: RunnerClient,
  ) {}

  get(caller: Caller): BrokerStatusView {
    requireAdmin(caller);
    const s = this.conn.state;
    return { status: s.status, attempts: s.attempts, lastError: s.lastError, since: new Date(s.since).toISOString(), node: s.node, runnerWaits: this.runners.waitStats() };
  }
}
