import { kstDay, type Pool } from '@domaeka/core';
import type { ReplyPayload } from '@domaeka/broker';
import type { CallLog } from '@domaeka/calls';
import { WriteBatcher } from './write-batcher.js';

export type OutboxStatus = 'pending' | 'replied' | 'no_match' | 'ignored';

export interface OutboxEntry {
  eventId: string;
  tenantId: string;
  botId: string;
  channelId: string;
  logId: string | null;
  commandId: string | null;
  source: string;
  replyRoute: string | null;
}

/**
 * Where a room call stands against its tenant's daily limit: `call` is its
 * number among the tenant's room calls of this KST day (counted when the
 * event is first claimed, never again on redelivery), `limit` the plan's
 * `runs_per_day` read in the same statement (a plan change applies from
 * the next call, whatever the caches hold).
 */
export interface DailyQuota {
  call: number;
  limit: number;
}

/**
 * What the outbox says about an event:
 * - `new`: this event is ours to run (if within its quota);
 * - `retry`: our row exists but holds no reply (a crash or a database outage
 *   between claim and completion): run it again, unless `attempts` (this
 *   delivery included) says it was tried too often;
 * - `completed`: finished before (a redelivery): republish what is stored;
 * - `duplicate`: another event already carries this (bot, channel, log_id):
 *   a second phone of the bot relayed the same chat message.
 */
export type Claim =
  | { kind: 'new'; quota: DailyQuota }
  | { kind: 'retry'; attempts: number }
  | { kind: 'completed'; status: Exclude<OutboxStatus, 'pending'>; reply: ReplyPayload | null }
  | { kind: 'duplicate'; eventId: string };

/** One kb_api_logs row: every target call writes one (the call's own part, plus whose call it was). */
export interface ApiLogEntry extends CallLog {
  tenantId: string;
  commandId: string | null;
  eventId: string;
  botId: string;
  channelId: string;
  /** The analyze event's source: the logs and the live tail say where a call came from. */
  source: string;
}

/**
 * Many events in one statement (WriteBatcher): one round trip and one commit
 * for all of them. A claimed room call (`pending`) is counted in the same
 * statement: the row the insert created is the proof that this delivery is
 * the event's first, so a redelivery or a second phone's relay (both
 * conflict) is never counted; the counter and the claim commit or vanish
 * together. Counter rows are locked in tenant order, so two batches never
 * deadlock on them. Each claimed event gets its number of the day: the
 * tenant's new total minus the batch's events after it.
 */
export const INSERT_SQL = `
  with ins as (
    insert into kb_outbox (event_id, tenant_id, bot_id, channel_id, log_id, command_id, source, status, reply_route, completed_at)
    select e, t, b, c, l, cmd, src, st, rr, case when st = 'pending' then null else now() end
      from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[])
           as u(e, t, b, c, l, cmd, src, st, rr)
    on conflict do nothing
    returning event_id, tenant_id, status
  ), n as (
    select tenant_id, count(*)::int as c from ins where status = 'pending' group by tenant_id
  ), counted as (
    insert into kb_usage_daily (tenant_id, day, room_calls)
    select tenant_id, $10::date, c from n order by tenant_id
    on conflict (tenant_id, day) do update set room_calls = kb_usage_daily.room_calls + excluded.room_calls
    returning tenant_id, room_calls
  )
  select i.event_id,
         (k.room_calls - n.c + row_number() over (partition by i.tenant_id, i.status order by i.event_id))::int as call_no,
         p.runs_per_day
    from ins i
    left join n on n.tenant_id = i.tenant_id and i.status = 'pending'
    left join counted k on k.tenant_id = n.tenant_id
    left join tenants t on t.id = n.tenant_id
    left join plans p on p.id = t.plan_id`;

// Our own row first: a redelivery must find its reply even when a duplicate also exists.
// Our row still pending is a retry: its attempts are counted in the same look-up (only
// deliveries that conflict come here, never the first one).
export const EXISTING_SQL = `
  with retried as (
    update kb_outbox set attempts = attempts + 1 where event_id = $1 and status = 'pending'
    returning event_id, status, reply, attempts
  )
  select event_id, status, reply, attempts from retried
  union all
  select event_id, status, reply, attempts from kb_outbox where event_id = $1 and status <> 'pending'
  union all
  select event_id, status, reply, attempts from kb_outbox
   where $4::text is not null and bot_id = $2 and channel_id = $3 and log_id = $4 and event_id <> $1
  limit 1`;

export const SETTLE_SQL = `update kb_outbox set status = $2, completed_at = now() where event_id = $1 and status = 'pending'`;

// One statement, so each reply and its log row are stored together or not at all.
export const COMPLETE_SQL = `
  with d as (
    select * from unnest($1::uuid[], $2::jsonb[], $3::uuid[], $4::bigint[], $5::uuid[], $6::text[], $7::text[], $8::text[],
                         $9::int[], $10::int[], $11::text[], $12::text[], $13::text[])
      as d(event_id, reply, tenant_id, command_id, bot_id, channel_id, request_data, response_data,
           status_code, response_time, error_code, error_message, source)
  ), done as (
    update kb_outbox o set status = 'replied', reply = d.reply, completed_at = now() from d where o.event_id = d.event_id
  )
  insert into kb_api_logs (event_id, tenant_id, command_id, bot_id, channel_id, request_data, response_data,
                           status_code, response_time, error_code, error_message, source)
  select event_id, tenant_id, command_id, bot_id, channel_id, request_data, response_data,
         status_code, response_time, error_code, error_message, source from d`;

const BATCH = { maxBatch: 64, maxInFlight: 4 };

/**
 * A named statement: each pool connection parses and plans it once, not on
 * every room message (the CTEs above cost more to plan than to run).
 */
function prepared(name: string, text: string, values: unknown[]) {
  return { name, text, values };
}

interface Insert {
  entry: OutboxEntry;
  status: OutboxStatus;
}

interface Completion {
  eventId: string;
  reply: ReplyPayload | null;
  log: ApiLogEntry;
}

/** What the insert says of an item: null when its row existed already (a conflict). */
type Inserted = { quota: DailyQuota | null } | null;

interface ExistingRow {
  event_id: string;
  status: OutboxStatus;
  reply: ReplyPayload | null;
  attempts: number;
}

/** kb_outbox and kb_api_logs on the hot path, through the pg pool (no ORM unit of work), writes batched. */
export class OutboxStore {
  private readonly claims: WriteBatcher<Insert, Inserted>;
  private readonly records: WriteBatcher<Insert, Inserted>;
  private readonly completions: WriteBatcher<Completion, void>;

  /**
   * `claimPool` may run with `synchronous_commit = off`: a claim needs no
   * flush of its own, because the completion that follows it is a
   * synchronous commit and flushes the WAL up to and including the claim.
   * A claim lost to a database crash before that only means the
   * redelivered event runs again, as after any crash mid-call (and its
   * count was lost with it). `clock` says which KST day a call counts on.
   */
  constructor(
    private readonly pool: Pool,
    claimPool: Pool = pool,
    private readonly clock: () => number = Date.now,
  ) {
    this.claims = new WriteBatcher((items) => this.insertMany(claimPool, items), BATCH);
    this.records = new WriteBatcher((items) => this.insertMany(pool, items), BATCH);
    this.completions = new WriteBatcher((items) => this.completeMany(items), BATCH);
  }

  /** Claims a resolved event before its target runs (insert, on conflict look at what is there). */
  claim(entry: OutboxEntry): Promise<Claim> {
    return this.insert(entry, 'pending');
  }

  /**
   * Records an event of the HTTP ingress that ran nothing (no match,
   * unapproved room), so `GET /messages/:eventId` can report it.
   */
  record(entry: OutboxEntry, status: 'no_match' | 'ignored'): Promise<Claim> {
    return this.insert(entry, status);
  }

  /** Finishes our own pending row without a target call (its command went away between two deliveries). */
  async settle(eventId: string, status: 'no_match' | 'ignored'): Promise<void> {
    await this.pool.query(SETTLE_SQL, [eventId, status]);
  }

  /** Stores the reply on the outbox row and writes the call's log row, atomically. */
  complete(eventId: string, reply: ReplyPayload | null, log: ApiLogEntry): Promise<void> {
    return this.completions.submit({ eventId, reply, log });
  }

  private async insert(entry: OutboxEntry, status: OutboxStatus): Promise<Claim> {
    // Two rounds at most: a conflicting row can vanish between the insert and the look-up (bot deleted).
    for (let attempt = 0; attempt < 2; attempt++) {
      const batcher = status === 'pending' ? this.claims : this.records;
      const inserted = await batcher.submit({ entry, status });
      if (inserted) {
        if (status !== 'pending') return { kind: 'completed', status, reply: null };
        if (!inserted.quota) throw new Error(`claim of event ${entry.eventId} was not counted`);
        return { kind: 'new', quota: inserted.quota };
      }
      const { rows } = await this.pool.query<ExistingRow>(EXISTING_SQL, [entry.eventId, entry.botId, entry.channelId, entry.logId]);
      const row = rows[0];
      if (!row) continue;
      if (row.event_id !== entry.eventId) return { kind: 'duplicate', eventId: row.event_id };
      if (row.status === 'pending') return { kind: 'retry', attempts: row.attempts };
      return { kind: 'completed', status: row.status, reply: row.reply };
    }
    throw new Error(`outbox row of event ${entry.eventId} conflicts but cannot be found`);
  }

  /** For each item: whether this statement inserted its row, and for a claim, its place against the quota. */
  private async insertMany(pool: Pool, items: Insert[]): Promise<Inserted[]> {
    const col = <T>(f: (i: Insert) => T) => items.map(f);
    const { rows } = await pool.query<{ event_id: string; call_no: number | null; runs_per_day: number | null }>(prepared('kb_outbox_insert', INSERT_SQL, [
      col((i) => i.entry.eventId),
      col((i) => i.entry.tenantId),
      col((i) => i.entry.botId),
      col((i) => i.entry.channelId),
      col((i) => i.entry.logId),
      col((i) => i.entry.commandId),
      col((i) => i.entry.source),
      col((i) => i.status),
      col((i) => i.entry.replyRoute),
      kstDay(this.clock()),
    ]));
    const inserted = new Map(rows.map((r) => [r.event_id, r]));
    // The same event twice in one batch (a redelivery racing the first delivery): the second one looks up the row.
    return items.map((i) => {
      const r = inserted.get(i.entry.eventId);
      if (!r) return null;
      inserted.delete(i.entry.eventId);
      return { quota: r.call_no === null || r.runs_per_day === null ? null : { call: r.call_no, limit: r.runs_per_day } };
    });
  }

  private async completeMany(items: Completion[]): Promise<void[]> {
    const col = <T>(f: (c: Completion) => T) => items.map(f);
    await this.pool.query(prepared('kb_outbox_complete', COMPLETE_SQL, [
      col((c) => c.eventId),
      col((c) => (c.reply === null ? null : JSON.stringify(c.reply))),
      col((c) => c.log.tenantId),
      col((c) => c.log.commandId),
      col((c) => c.log.botId),
      col((c) => c.log.channelId),
      col((c) => c.log.requestData),
      col((c) => c.log.responseData),
      col((c) => c.log.statusCode),
      col((c) => Math.round(c.log.responseTimeMs)),
      col((c) => c.log.errorCode),
      col((c) => c.log.errorMessage),
      col((c) => c.log.source),
    ]));
    return items.map(() => undefined);
  }
}
