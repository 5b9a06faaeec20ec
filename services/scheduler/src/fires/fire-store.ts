import type { Pool, PoolClient } from '@domaeka/core';
import type { ScheduleRoom } from '@domaeka/broker';

/** A schedule as a fire needs it. */
export interface DueSchedule {
  id: string;
  tenantId: string;
  commandId: string;
  cron: string;
  label: string;
  rooms: ScheduleRoom[];
  input: string;
  /** The period it is due for (epoch ms). */
  due: number;
}

/** A fire to publish: a claimed period of a schedule. */
export interface ClaimedFire {
  eventId: string;
  fireAt: number;
  lateMs: number;
  schedule: Omit<DueSchedule, 'cron' | 'due'>;
}

export interface FireRow {
  eventId: string;
  fireAt: number;
  state: 'claimed' | 'skipped';
  lateMs: number;
}

// Due schedules, locked for this transaction; another instance's tick skips them (and takes the next ones).
export const CLAIM_DUE_SQL = `
  select id, tenant_id, command_id::text as command_id, cron, label, rooms, input_text, next_fire_at
    from kb_schedules
   where enabled and next_fire_at <= $1
   order by next_fire_at
   limit $2
   for update skip locked`;

// The primary key (schedule_id, fire_at) admits one row per period: whoever inserts it owns the fire.
export const INSERT_FIRES_SQL = `
  insert into kb_schedule_fires (schedule_id, fire_at, event_id, state, late_ms, claimed_by, claimed_at)
  select $1, u.fire_at, u.event_id, u.state, u.late_ms, $6, $7
    from unnest($2::timestamptz[], $3::uuid[], $4::text[], $5::int[]) as u(fire_at, event_id, state, late_ms)
  on conflict do nothing
  returning event_id::text, state`;

export const ADVANCE_SQL = `update kb_schedules set next_fire_at = $2 where id = $1`;

// Claimed long enough ago and never confirmed published: the claimer died between its commit and its publish.
export const UNPUBLISHED_SQL = `
  select f.event_id::text as event_id, f.fire_at, f.late_ms, s.id, s.tenant_id, s.command_id::text as command_id,
         s.label, s.rooms, s.input_text
    from kb_schedule_fires f join kb_schedules s on s.id = f.schedule_id
   where f.state = 'claimed' and f.claimed_at <= $1
   order by f.claimed_at
   limit $2
   for update of f skip locked`;

export const MARK_PUBLISHED_SQL = `
  update kb_schedule_fires set state = 'published', published_at = now()
   where event_id = any($1::uuid[]) and state = 'claimed'`;

// Fire rows older than the retention, per schedule through the primary key (schedule_id, fire_at); a period that old is
// long behind next_fire_at, so its row no longer guards anything.
export const PURGE_FIRES_SQL = `
  delete from kb_schedule_fires f using (
    select x.schedule_id, x.fire_at from kb_schedules s
     cross join lateral (select schedule_id, fire_at from kb_schedule_fires
                          where schedule_id = s.id and fire_at < $1 order by fire_at limit $2) x
  ) old
  where f.schedule_id = old.schedule_id and f.fire_at = old.fire_at`;

interface ScheduleRow {
  id: string;
  tenant_id: string;
  command_id: string;
  label: string;
  rooms: ScheduleRoom[];
  input_text: string;
}

const scheduleOf = (r: ScheduleRow) => ({ id: r.id, tenantId: r.tenant_id, commandId: r.command_id, label: r.label, rooms: r.rooms, input: r.input_text });

/** The scheduler's statements. A transaction's client is passed in: claims, fire rows and the advance commit together. */
export class FireStore {
  constructor(private readonly pool: Pool) {}

  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const out = await work(client);
      await client.query('commit');
      return out;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async claimDue(client: PoolClient, now: number, limit: number): Promise<DueSchedule[]> {
    const { rows } = await client.query<ScheduleRow & { cron: string; next_fire_at: Date }>(CLAIM_DUE_SQL, [new Date(now), limit]);
    return rows.map((r) => ({ ...scheduleOf(r), cron: r.cron, due: r.next_fire_at.getTime() }));
  }

  /** Inserts the period rows; returns the event ids of the `claimed` ones this call inserted (the fires it owns). */
  async insertFires(client: PoolClient, scheduleId: string, rows: FireRow[], instanceId: string, now: number): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const { rows: inserted } = await client.query<{ event_id: string; state: string }>(INSERT_FIRES_SQL, [
      scheduleId,
      rows.map((r) => new Date(r.fireAt)),
      rows.map((r) => r.eventId),
      rows.map((r) => r.state),
      rows.map((r) => r.lateMs),
      instanceId,
      new Date(now),
    ]);
    return new Set(inserted.filter((r) => r.state === 'claimed').map((r) => r.event_id));
  }

  async advance(client: PoolClient, scheduleId: string, next: number | null): Promise<void> {
    await client.query(ADVANCE_SQL, [scheduleId, next === null ? null : new Date(next)]);
  }

  async unpublished(client: PoolClient, claimedBefore: number, limit: number): Promise<ClaimedFire[]> {
    const { rows } = await client.query<ScheduleRow & { event_id: string; fire_at: Date; late_ms: number }>(UNPUBLISHED_SQL, [new Date(claimedBefore), limit]);
    return rows.map((r) => ({ eventId: r.event_id, fireAt: r.fire_at.getTime(), lateMs: r.late_ms, schedule: scheduleOf(r) }));
  }

  /** Deletes fire rows of periods before `before` (at most `perSchedule` per schedule); returns how many. */
  async purge(before: number, perSchedule: number): Promise<number> {
    return (await this.pool.query(PURGE_FIRES_SQL, [new Date(before), perSchedule])).rowCount ?? 0;
  }

  async markPublished(eventIds: string[], client?: PoolClient): Promise<void> {
    if (eventIds.length === 0) return;
    await (client ?? this.pool).query(MARK_PUBLISHED_SQL, [eventIds]);
  }
}
