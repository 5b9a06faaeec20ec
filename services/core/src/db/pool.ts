import type { Socket } from 'node:net';
import { coalesceWrites } from '@domaeka/broker';
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** The hot path talks to PostgreSQL through the driver directly. */
export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    application_name: 'domaeka',
  });
  // An idle client losing its server (PostgreSQL restart) must not crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => coalesceWrites((client as unknown as { connection: { stream: Socket } }).connection.stream));
  return pool;
}

const DEPENDENCY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300']);

/** True when the error means "the database is not there right now" (retry later), not "this query is wrong". */
export function isDatabaseDown(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: string; message?: string };
  if (e.code && (DEPENDENCY_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  const m = e.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error|terminating connection/i.test(m);
}
