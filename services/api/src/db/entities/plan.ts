import { BigIntType, DecimalType, EntitySchema } from '@mikro-orm/core';

/** A plan row (`plans`): limits are data, seeded by the first migration. */
export interface Plan {
  id: string;
  name: string;
  /** Room calls per KST day (the dispatcher refuses the ones beyond). */
  runsPerDay: number;
  /** Editor test runs per KST day, counted apart from room calls. */
  testRunsPerDay: number;
  timeoutMaxMs: number;
  memoryMb: number;
  cpus: number;
  network: 'none' | 'allowlist';
  mode: 'ephemeral' | 'dedicated';
  maxConcurrency: number;
  /** Editor test runs started per minute (429 KB_ERR_RATE_LIMITED beyond). */
  testRunsPerMinute: number;
  /** Editor test runs queued or running at once. */
  testRunsConcurrent: number;
  /** Room calls one tenant may have in hand at a dispatcher; beyond, answered KB_ERR_BUSY. */
  roomCallsInFlight: number;
  logRetentionDays: number;
  /** Keys a tenant's store may hold (`from domaeka import store`); a write of a new key beyond is KB_ERR_STORAGE_QUOTA. */
  storeMaxKeys: number;
  /** Bytes of JSON a tenant's store may hold (UTF-8 of each value's compact text). */
  storeMaxBytes: number;
  /** Bytes a tenant's tables may take (`from domaeka import db`: its schema's tables, indexes, TOAST). */
  dbMaxBytes: number;
  /** Rows one statement may return. */
  dbMaxRows: number;
  /** One statement's time limit. */
  dbStatementTimeoutMs: number;
  /** Messages the tenant's code may send to its rooms a day (`from domaeka import send`, KST). */
  sendsPerDay: number;
}

export const Plan = new EntitySchema<Plan>({
  name: 'Plan',
  tableName: 'plans',
  properties: {
    id: { type: 'string', columnType: 'text', primary: true },
    name: { type: 'string', columnType: 'text' },
    runsPerDay: { type: 'integer', fieldName: 'runs_per_day' },
    testRunsPerDay: { type: 'integer', fieldName: 'test_runs_per_day', default: 200 },
    timeoutMaxMs: { type: 'integer', fieldName: 'timeout_max_ms' },
    memoryMb: { type: 'integer', fieldName: 'memory_mb' },
    cpus: { type: new DecimalType('number'), columnType: 'numeric(4,2)' },
    network: { enum: true, items: ['none', 'allowlist'], columnType: 'text' },
    mode: { enum: true, items: ['ephemeral', 'dedicated'], columnType: 'text' },
    maxConcurrency: { type: 'integer', fieldName: 'max_concurrency', default: 2 },
    testRunsPerMinute: { type: 'integer', fieldName: 'test_runs_per_minute', default: 10 },
    testRunsConcurrent: { type: 'integer', fieldName: 'test_runs_concurrent', default: 2 },
    roomCallsInFlight: { type: 'integer', fieldName: 'room_calls_in_flight', default: 8 },
    logRetentionDays: { type: 'integer', fieldName: 'log_retention_days', default: 30 },
    storeMaxKeys: { type: 'integer', fieldName: 'store_max_keys', default: 1000 },
    storeMaxBytes: { type: new BigIntType('number'), fieldName: 'store_max_bytes', default: 1048576 },
    dbMaxBytes: { type: new BigIntType('number'), fieldName: 'db_max_bytes', default: 5242880 },
    dbMaxRows: { type: 'integer', fieldName: 'db_max_rows', default: 500 },
    dbStatementTimeoutMs: { type: 'integer', fieldName: 'db_statement_timeout_ms', default: 1000 },
    sendsPerDay: { type: 'integer', fieldName: 'sends_per_day', default: 100 },
  },
});
