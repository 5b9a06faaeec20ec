import { createHash } from 'node:crypto';
import type { Pool } from '@domaeka/core';

/** One brake's counter: which brake (`login_account`, `signup_ip`...), whose attempts, and how far back they count. */
export interface AttemptKey {
  scope: string;
  key: string;
  windowMs: number;
}

/**
 * Where the brakes of `AuthLimits` count. `add` is atomic per key: of
 * attempts racing on one key (from any number of API processes), each sees
 * the ones before it, so no two of them both take the last free slot.
 */
export interface AttemptStore {
  /** Counts an attempt at `at` on each key; returns, per key in order, the earlier attempts still in its window (oldest first). */
  add(keys: readonly AttemptKey[], at: number): Promise<number[][]>;
  /** Takes back one attempt counted at `at` on each key. */
  withdraw(keys: readonly Pick<AttemptKey, 'scope' | 'key'>[], at: number): Promise<void>;
  /** Forgets every attempt on the key. */
  clear(key: Pick<AttemptKey, 'scope' | 'key'>): Promise<void>;
}

// Appends `at` to each key's hits, dropping those past the key's window; ON CONFLICT locks the row, so racing attempts queue.
export const ADD_ATTEMPTS_SQL = `
  insert into kb_auth_attempts as a (scope, key_hash, window_ms, hits, expires_ms)
  select i.scope, i.key_hash, i.window_ms, array[$4::bigint], $4::bigint + i.window_ms
    from unnest($1::text[], $2::bytea[], $3::int[]) as i(scope, key_hash, window_ms)
  on conflict (scope, key_hash) do update
     set window_ms = excluded.window_ms,
         hits = array(select h from unnest(a.hits) with ordinality as u(h, n) where h > $4::bigint - excluded.window_ms order by n) || $4::bigint,
         expires_ms = excluded.expires_ms
  returning scope, key_hash, hits`;
// Removes one occurrence of $3 from each key's hits.
export const WITHDRAW_ATTEMPTS_SQL = `
  update kb_auth_attempts a
     set hits = a.hits[:array_position(a.hits, $3::bigint) - 1] || a.hits[array_position(a.hits, $3::bigint) + 1:]
    from unnest($1::text[], $2::bytea[]) as i(scope, key_hash)
   where a.scope = i.scope and a.key_hash = i.key_hash and $3::bigint = any(a.hits)`;
export const CLEAR_ATTEMPTS_SQL = `delete from kb_auth_attempts where scope = $1 and key_hash = $2`;
// Rows whose latest attempt is past its window count nothing; rows another process is writing are skipped.
export const PURGE_ATTEMPTS_SQL = `
  delete from kb_auth_attempts where (scope, key_hash) in (
    select scope, key_hash from kb_auth_attempts where expires_ms <= $1 limit $2 for update skip locked)`;

/** How often one API process purges expired rows, on a write (no timer), and how many at most. */
const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 1000;

/** SHA-256 of the key: emails and addresses are not kept in the table. */
function hashOf(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * The brakes' counters in PostgreSQL (`kb_auth_attempts`), shared by every
 * API process on the database: N processes behind a balancer allow what one
 * does. Times come from the injected clock, never the database's now().
 * Expired rows are deleted lazily: at most once a minute per process, after
 * a write, PURGE_BATCH rows at a time.
 */
export class PgAttemptStore implements AttemptStore {
  private nextPurge = 0;

  constructor(private readonly pool: Pool) {}

  async add(keys: readonly AttemptKey[], at: number): Promise<number[][]> {
    const hashes = keys.map((k) => hashOf(k.key));
    const { rows } = await this.pool.query<{ scope: string; key_hash: Buffer; hits: (string | number)[] }>(ADD_ATTEMPTS_SQL, [
      keys.map((k) => k.scope),
      hashes,
      keys.map((k) => k.windowMs),
      at,
    ]);
    // A failed purge only leaves dead rows for the next one (a minute later): no reason to fail this attempt.
    await this.purge(at).catch(() => undefined);
    const byKey = new Map(rows.map((r) => [`${r.scope}\n${r.key_hash.toString('hex')}`, r.hits.map(Number)]));
    // The last hit is this attempt: the row lock makes it the newest.
    return keys.map((k, i) => (byKey.get(`${k.scope}\n${hashes[i]!.toString('hex')}`) ?? [at]).slice(0, -1));
  }

  async withdraw(keys: readonly Pick<AttemptKey, 'scope' | 'key'>[], at: number): Promise<void> {
    await this.pool.query(WITHDRAW_ATTEMPTS_SQL, [keys.map((k) => k.scope), keys.map((k) => hashOf(k.key)), at]);
  }

  async clear(key: Pick<AttemptKey, 'scope' | 'key'>): Promise<void> {
    await this.pool.query(CLEAR_ATTEMPTS_SQL, [key.scope, hashOf(key.key)]);
  }

  private async purge(now: number): Promise<void> {
    if (now < this.nextPurge) return;
    this.nextPurge = now + PURGE_EVERY_MS;
    await this.pool.query(PURGE_ATTEMPTS_SQL, [now, PURGE_BATCH]);
  }
}
