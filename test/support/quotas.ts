import pg from 'pg';

/**
 * Lifts every plan's daily limits (issue 4) in one test or bench database,
 * for runs that send thousands of room calls in a day (chaos, bench): the
 * calls are still counted on the hot path, just never refused. Nothing
 * else about the plans changes (modes, timeouts, sandbox limits).
 */
export async function liftDailyQuotas(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`update plans set runs_per_day = 1000000000, test_runs_per_day = 1000000000`);
  } finally {
    await client.end();
  }
}

/**
 * Lifts `plans.room_calls_in_flight` (issue 12's per-tenant cap of room
 * calls in hand at a dispatcher) of the given plans, or of every plan, for
 * runs that put hundreds of one tenant's calls in flight on purpose (chaos:
 * a dispatcher killed with 500 in flight; bench throughput). Returns false
 * on a database from before the cap (no such column: nothing to lift).
 */
export async function liftRoomCallsInHand(databaseUrl: string, plans?: string[]): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`update plans set room_calls_in_flight = 1000000 where $1::text[] is null or id = any($1)`, [plans ?? null]);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '42703') return false; // undefined_column
    throw err;
  } finally {
    await client.end();
  }
}
