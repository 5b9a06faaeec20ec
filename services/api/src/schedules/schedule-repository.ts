import type { Orm } from '../db/em.js';

export interface ScheduleRow {
  id: string;
  tenant_id: string;
  command_id: string;
  command: string | null;
  cron: string;
  label: string;
  rooms: { botId: string; room: string; channelId: string }[];
  room_views: { botId: string; botName: string; room: string; channelId: string }[];
  input_text: string;
  enabled: boolean;
  next_fire_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface FireRow {
  event_id: string;
  fire_at: Date | string;
  state: 'claimed' | 'published' | 'skipped';
  late_ms: number;
  error_code: string | null;
  response_time: number | null;
  log_at: Date | string | null;
}

export interface RoomRow {
  bot_id: string;
  bot_name: string;
  channel_id: string;
  room: string;
}

export interface ScheduleWrite {
  commandId: number;
  cron: string;
  label: string;
  rooms: { botId: string; room: string; channelId: string }[];
  input: string;
  enabled: boolean;
  nextFireAt: Date | null;
}

// The rooms with their bot's current name (the stored rooms are what the scheduler sends: bot id, room, channel).
const COLUMNS = `s.id, s.tenant_id, s.command_id::text as command_id, c.command, s.cron, s.label, s.rooms,
                 (select coalesce(jsonb_agg(x || jsonb_build_object('botName', coalesce(b.name, ''))), '[]'::jsonb)
                    from jsonb_array_elements(s.rooms) x left join bots b on b.id = (x->>'botId')::uuid and b.tenant_id = s.tenant_id) as room_views,
                 s.input_text, s.enabled, s.next_fire_at, s.created_at, s.updated_at`;

export const LIST_SQL = `
  select ${COLUMNS} from kb_schedules s left join kb_commands c on c.id = s.command_id and c.deleted_at is null
   where s.tenant_id = ? order by s.created_at, s.id`;

export const ONE_SQL = `
  select ${COLUMNS} from kb_schedules s left join kb_commands c on c.id = s.command_id and c.deleted_at is null
   where s.tenant_id = ? and s.id = ?`;

export const COUNT_SQL = `select count(*)::int as n from kb_schedules where tenant_id = ?`;

export const COMMAND_SQL = `select id::text as id from kb_commands where tenant_id = ? and id = ? and deleted_at is null`;

// Only the tenant's own bots' approved rooms can be chosen.
export const ROOMS_SQL = `
  select r.bot_id::text as bot_id, b.name as bot_name, r.channel_id, r.name as room
    from jsonb_to_recordset(?::jsonb) as want(bot_id uuid, channel_id text)
    join rooms r on r.bot_id = want.bot_id and r.channel_id = want.channel_id and r.status = 'approved'
    join bots b on b.id = r.bot_id and b.tenant_id = ?`;

// The picker's choices: every approved room of the tenant's bots.
export const CHOICES_SQL = `
  select r.bot_id::text as bot_id, b.name as bot_name, r.channel_id, r.name as room
    from rooms r join bots b on b.id = r.bot_id
   where b.tenant_id = ? and r.status = 'approved'
   order by b.name, r.name
   limit 500`;

export const INSERT_SQL = `
  insert into kb_schedules (id, tenant_id, command_id, cron, label, rooms, input_text, enabled, next_fire_at)
  values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)`;

export const UPDATE_SQL = `
  update kb_schedules set command_id = ?, cron = ?, label = ?, rooms = ?::jsonb, input_text = ?, enabled = ?,
                          next_fire_at = ?, updated_at = now()
   where tenant_id = ? and id = ?`;

export const DELETE_SQL = `delete from kb_schedules where tenant_id = ? and id = ? returning id`;

// The call's log row by the partial index on schedule rows' event ids (kb_api_logs_schedule_event_idx).
export const FIRES_SQL = `
  select f.event_id::text as event_id, f.fire_at, f.state, f.late_ms, l.error_code, l.response_time, l.created_at as log_at
    from kb_schedule_fires f join kb_schedules s on s.id = f.schedule_id
    left join lateral (
      select l.error_code, l.response_time, l.created_at from kb_api_logs l
       where l.event_id = f.event_id and l.source = 'schedule' and l.tenant_id = s.tenant_id
       limit 1) l on true
   where s.tenant_id = ? and f.schedule_id = ?
   order by f.fire_at desc
   limit ?`;

/** `kb_schedules` and `kb_schedule_fires`; every method takes the tenant id first. */
export class ScheduleRepository {
  constructor(private readonly orm: Orm) {}

  list(tenantId: string): Promise<ScheduleRow[]> {
    return this.orm.em.fork().execute<ScheduleRow[]>(LIST_SQL, [tenantId]);
  }

  async one(tenantId: string, id: string): Promise<ScheduleRow | null> {
    const rows = await this.orm.em.fork().execute<ScheduleRow[]>(ONE_SQL, [tenantId, id]);
    return rows[0] ?? null;
  }

  async count(tenantId: string): Promise<number> {
    const [row] = await this.orm.em.fork().execute<{ n: number }[]>(COUNT_SQL, [tenantId]);
    return row?.n ?? 0;
  }

  async commandExists(tenantId: string, commandId: number): Promise<boolean> {
    return (await this.orm.em.fork().execute(COMMAND_SQL, [tenantId, commandId])).length > 0;
  }

  rooms(tenantId: string, wanted: { botId: string; channelId: string }[]): Promise<RoomRow[]> {
    const json = JSON.stringify(wanted.map((w) => ({ bot_id: w.botId, channel_id: w.channelId })));
    return this.orm.em.fork().execute<RoomRow[]>(ROOMS_SQL, [json, tenantId]);
  }

  roomChoices(tenantId: string): Promise<RoomRow[]> {
    return this.orm.em.fork().execute<RoomRow[]>(CHOICES_SQL, [tenantId]);
  }

  async insert(tenantId: string, id: string, w: ScheduleWrite): Promise<void> {
    await this.orm.em.fork().execute(INSERT_SQL, [id, tenantId, w.commandId, w.cron, w.label, JSON.stringify(w.rooms), w.input, w.enabled, w.nextFireAt]);
  }

  async update(tenantId: string, id: string, w: ScheduleWrite): Promise<void> {
    await this.orm.em.fork().execute(UPDATE_SQL, [w.commandId, w.cron, w.label, JSON.stringify(w.rooms), w.input, w.enabled, w.nextFireAt, tenantId, id]);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    return (await this.orm.em.fork().execute(DELETE_SQL, [tenantId, id])).length > 0;
  }

  fires(tenantId: string, id: string, limit: number): Promise<FireRow[]> {
    return this.orm.em.fork().execute<FireRow[]>(FIRES_SQL, [tenantId, id, limit]);
  }
}
