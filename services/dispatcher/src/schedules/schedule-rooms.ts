import type { Pool } from '@domaeka/core';
import type { ScheduleRoom } from '@domaeka/broker';

/**
 * The reply route a room (`rooms` row aliased `alias`) is reached on when
 * nobody just wrote in it: the route its last command was answered on (a
 * phone `dev.<device>` or an external bot server `ext.<bot>`), else the
 * bot's most recently seen approved phone; null when none. The one place
 * for it: schedule fires and code's `send()` use it alike.
 */
export function roomRouteSql(alias: string): string {
  return `coalesce(
           (select o.reply_route from kb_outbox o
             where o.bot_id = ${alias}.bot_id and o.channel_id = ${alias}.channel_id and o.log_id is not null and o.reply_route is not null
             order by o.created_at desc limit 1),
           (select 'dev.' || d.id from devices d
             where d.bot_id = ${alias}.bot_id and d.status = 'approved'
             order by d.last_seen_at desc limit 1)
         )`;
}

/** A schedule's room as the fire reaches it: still approved, and the reply route it is reached on. */
export interface ReachableRoom extends ScheduleRoom {
  botName: string;
  route: string;
}

/**
 * Each chosen room at fire time, one statement for all: the bot must still
 * be the tenant's and active, the room approved; the reply route is the one
 * the room's last command was answered on (a phone `dev.<device>` or an
 * external bot server `ext.<bot>`), else the bot's most recently seen
 * approved phone. A room none of these reach is left out (logged).
 */
export const SCHEDULE_ROOMS_SQL = `
  select r.bot_id::text as bot_id, b.name as bot_name, r.channel_id, r.name as room,
         ${roomRouteSql('r')} as route
    from unnest($2::uuid[], $3::text[]) with ordinality as want(bot_id, channel_id, n)
    join rooms r on r.bot_id = want.bot_id and r.channel_id = want.channel_id and r.status = 'approved'
    join bots b on b.id = r.bot_id and b.tenant_id = $1 and b.is_active
   order by want.n`;

export class ScheduleRooms {
  constructor(private readonly pool: Pool) {}

  async reachable(tenantId: string, rooms: readonly ScheduleRoom[]): Promise<{ reachable: ReachableRoom[]; unreachable: ScheduleRoom[] }> {
    const { rows } = await this.pool.query<{ bot_id: string; bot_name: string; channel_id: string; room: string; route: string | null }>(SCHEDULE_ROOMS_SQL, [
      tenantId,
      rooms.map((r) => r.botId),
      rooms.map((r) => r.channelId),
    ]);
    const reachable = rows
      .filter((r) => r.route !== null)
      .map((r) => ({ botId: r.bot_id, botName: r.bot_name, room: r.room, channelId: r.channel_id, route: r.route! }));
    const found = new Set(reachable.map((r) => `${r.botId}/${r.channelId}`));
    return { reachable, unreachable: rooms.filter((r) => !found.has(`${r.botId}/${r.channelId}`)) };
  }
}
