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
