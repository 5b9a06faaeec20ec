import { ConfigError, int, parseCoreConfig, str, type CoreConfig } from '@domaeka/core';

type Env = Record<string, string | undefined>;

export interface SchedulerConfig extends CoreConfig {
  /** Ops HTTP port (/healthz, /readyz, /metrics); 0 picks a free one (tests). */
  httpPort: number;
  httpHost: string;
  /** How often due schedules are looked for: a fire is at most this late (plus the claim's time). */
  tickMs: number;
  /** Most schedules claimed by one tick (the rest wait for the next). */
  batch: number;
  /** A fire claimed but not confirmed published for this long is published again by any instance (its claimer died). */
  republishAfterMs: number;
  dbPoolSize: number;
  /** Fire rows (`kb_schedule_fires`) of older periods are deleted; the API shows the newest 20 of a schedule. */
  fireRetentionDays: number;
  /** Tests only: `anchorMs,startMs,speed`: time reads `startMs + (now - anchorMs) * speed` (same in every instance given the same value). */
  testClock: { anchorMs: number; startMs: number; speed: number } | null;
  /** Tests only: wait this long between the commit and the publish, so a chaos test can kill -9 an instance in that gap. */
  testPublishDelayMs: number;
}

function testClock(env: Env): SchedulerConfig['testClock'] {
  const raw = str(env, 'SCHEDULER_TEST_CLOCK', '');
  if (raw === '') return null;
  const [anchorMs, startMs, speed] = raw.split(',').map(Number);
  if (![anchorMs, startMs, speed].every((n) => Number.isFinite(n)) || speed! <= 0) {
    throw new ConfigError(`SCHEDULER_TEST_CLOCK must be "anchorMs,startMs,speed", got "${raw}"`);
  }
  return { anchorMs: anchorMs!, startMs: startMs!, speed: speed! };
}

export function parseSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return {
    ...parseCoreConfig(env),
    httpPort: int(env, 'SCHEDULER_HTTP_PORT', 8084),
    httpHost: str(env, 'SCHEDULER_HTTP_HOST', '127.0.0.1'),
    tickMs: int(env, 'SCHEDULER_TICK_MS', 1000, 10, 60_000),
    batch: int(env, 'SCHEDULER_BATCH', 100, 1, 10_000),
    republishAfterMs: int(env, 'SCHEDULER_REPUBLISH_AFTER_MS', 15_000, 100, 3_600_000),
    dbPoolSize: int(env, 'SCHEDULER_DB_POOL', 4, 1, 100),
    fireRetentionDays: int(env, 'SCHEDULER_FIRE_RETENTION_DAYS', 30, 1, 3650),
    testClock: testClock(env),
    testPublishDelayMs: int(env, 'SCHEDULER_TEST_PUBLISH_DELAY_MS', 0, 0, 60_000),
  };
}
