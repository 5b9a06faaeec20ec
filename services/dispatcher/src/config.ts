import { int, parseCoreConfig, str, type CoreConfig } from '@domaeka/core';

type Env = Record<string, string | undefined>;

export interface DispatcherConfig extends CoreConfig {
  /** Ops HTTP port (/healthz, /readyz, /metrics); 0 picks a free one (tests). */
  httpPort: number;
  httpHost: string;
  /** Most analyze events held unacked at once (bounds memory and work held while a dependency is down). */
  prefetch: number;
  /** PostgreSQL connections of the hot path. */
  dbPoolSize: number;
  /** Fallback lifetime of cached commands, bots, devices and rooms; `changed` events drop entries sooner. */
  cacheTtlMs: number;
  /** Lifetime of cached unapproved / missing states: a change event and a message travel different queues. */
  negativeCacheTtlMs: number;
  /** How often call logs past their plan's retention (and old outbox rows) are purged. */
  retentionIntervalMs: number;
  /** Outbox and ingress records serve dedupe and `GET /messages/:id` only; kept this many days. */
  outboxRetentionDays: number;
}

export function parseDispatcherConfig(env: Env = process.env): DispatcherConfig {
  return {
    ...parseCoreConfig(env),
    httpPort: int(env, 'DISPATCHER_HTTP_PORT', 8082),
    // Ops port (health, readiness, metrics): loopback unless the operator names an interface (issue 13).
    httpHost: str(env, 'DISPATCHER_HTTP_HOST', '127.0.0.1'),
    prefetch: int(env, 'DISPATCHER_PREFETCH', 200, 1, 10_000),
    dbPoolSize: int(env, 'DISPATCHER_DB_POOL', 20, 1, 500),
    cacheTtlMs: int(env, 'DISPATCHER_CACHE_TTL_MS', 30_000, 0, 3_600_000),
    negativeCacheTtlMs: int(env, 'DISPATCHER_NEGATIVE_CACHE_TTL_MS', 1_000, 0, 60_000),
    retentionIntervalMs: int(env, 'DISPATCHER_RETENTION_INTERVAL_MS', 3_600_000, 1000, 86_400_000),
    outboxRetentionDays: int(env, 'KB_OUTBOX_RETENTION_DAYS', 7, 1, 3650),
  };
}
