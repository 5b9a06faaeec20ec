import type { Logger } from 'pino';
import type { OutgoingMessage } from '@domaeka/broker';
import { kstDayEnd, type Pool } from '@domaeka/core';
import { roomReplyId } from '../replies/room-reply-id.js';
import type { ReplyPublisher } from '../replies/reply-publisher.js';
import { roomRouteSql } from '../schedules/schedule-rooms.js';

/** The tenant's approved rooms of that name on its active bots, with the route each is reached on. */
export const SEND_ROOMS_SQL = `
  select r.bot_id::text as bot_id, b.name as bot_name, r.channel_id, r.name as room, ${roomRouteSql('r')} as route
    from rooms r
    join bots b on b.id = r.bot_id and b.tenant_id = $1 and b.is_active
   where r.name = $2 and r.status = 'approved'
   order by r.last_seen_at desc
   limit 20`;

/** The plan's messages a day and how many the tenant's code sent since the KST day began. */
export const SENDS_TODAY_SQL = `
  select p.sends_per_day as per_day,
         (select count(*)::int from kb_api_logs l where l.tenant_id = $1 and l.source = 'send' and l.created_at >= $2 and l.error_code is null) as used
    from tenants t join plans p on p.id = t.plan_id
   where t.id = $1`;

/** One row per delivery (a room reached) or per message that reached none (its error code says why). */
export const SEND_LOG_SQL = `
  insert into kb_api_logs (tenant_id, command_id, bot_id, channel_id, request_data, response_data, error_code, error_message, response_time, source)
  select $1, $2, x.bot_id, x.channel_id, x.request_data, x.response_data, x.error_code, x.error_message, 0, 'send'
    from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) as x(bot_id, channel_id, request_data, response_data, error_code, error_message)`;

export interface SendBatch {
  /** The call's event (a room message or a schedule fire): the deliveries' ids derive from it. */
  eventId: string;
  tenantId: string;
  commandId: string;
  sends: readonly OutgoingMessage[];
  /** A schedule fire's messages go out as scheduleMessage, like its reply. */
  kind?: 'schedule';
}

interface Row {
  botId: string | null;
  channelId: string | null;
  request: string;
  response: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

const DAY_MS = 24 * 3600_000;

/**
 * Delivers what tenant code queued with `send(room, text)` once its call
 * ended well (sandbox-image/runtime/domaeka/_outbox.py): each message goes
 * to every approved room of that name on the tenant's active bots, on the
 * route the room is reached on, as a reply with its own id (so a receiver
 * drops a second copy); each delivery is a kb_api_logs row (source `send`).
 * A message whose room the tenant has not (no such room, not approved, no
 * phone to reach it) or beyond the plan's messages a day is not sent and
 * gets one row saying why (`KB_ERR_SEND_NO_ROOM`, `KB_ERR_SEND_LIMIT`).
 * Called after the call's own reply is stored and sent; never throws (a
 * failure is logged), so the event is acked like any answered call: a
 * message is delivered at most once.
 */
export class SendDelivery {
  constructor(
    private readonly d: {
      pool: Pool;
      replies: ReplyPublisher;
      logger: Logger;
      clock?: () => number;
    },
  ) {}

  async deliver(b: SendBatch): Promise<void> {
    try {
      await this.deliverAll(b);
    } catch (err) {
      // The call's own answer is stored and sent: its event is acked all the same (a redelivery would not run it again).
      this.d.logger.error({ eventId: b.eventId, tenantId: b.tenantId, err: String(err) }, 'messages sent by code could not be delivered');
    }
  }

  private async deliverAll(b: SendBatch): Promise<void> {
    const now = (this.d.clock ?? Date.now)();
    const { rows: quota } = await this.d.pool.query<{ per_day: number; used: number }>(SENDS_TODAY_SQL, [b.tenantId, new Date(kstDayEnd(now) - DAY_MS)]);
    let left = quota[0] ? quota[0].per_day - quota[0].used : 0;
    const out: Row[] = [];
    for (const [i, m] of b.sends.entries()) {
      const request = JSON.stringify({ room: m.room, text: m.text, fromEventId: b.eventId });
      if (left <= 0) {
        out.push({ botId: null, channelId: null, request, response: null, errorCode: 'KB_ERR_SEND_LIMIT', errorMessage: `the plan's ${quota[0]?.per_day ?? 0} messages a day are used up: not sent` });
        continue;
      }
      const { rows } = await this.d.pool.query<{ bot_id: string; bot_name: string; channel_id: string; room: string; route: string | null }>(SEND_ROOMS_SQL, [b.tenantId, m.room]);
      const reachable = rows.filter((r) => r.route !== null).slice(0, left);
      if (reachable.length === 0) {
        const why = rows.length ? 'the room has no phone or bot server to reach it' : 'no approved room of that name on the tenant\'s bots';
        out.push({ botId: null, channelId: null, request, response: null, errorCode: 'KB_ERR_SEND_NO_ROOM', errorMessage: `${m.room}: ${why}` });
        continue;
      }
      for (const r of reachable) {
        const sent = await this.d.replies.reply(r.route!, roomReplyId(`${b.eventId}/send/${i}`, r.bot_id, r.channel_id), {
          type: 'text',
          text: m.text,
          media: [],
          botId: r.bot_id,
          botName: r.bot_name,
          room: r.room,
          channelId: r.channel_id,
          ...(b.kind ? { kind: b.kind } : {}),
        });
        out.push({
          botId: r.bot_id,
          channelId: r.channel_id,
          request,
          response: sent ? JSON.stringify({ type: 'text', text: m.text }) : null,
          errorCode: sent ? null : 'KB_ERR_SEND_NO_ROOM',
          errorMessage: sent ? null : `${m.room}: no queue for its route`,
        });
        if (sent) left--;
      }
    }
    await this.d.pool.query(SEND_LOG_SQL, [
      b.tenantId,
      b.commandId,
      out.map((r) => r.botId),
      out.map((r) => r.channelId),
      out.map((r) => r.request),
      out.map((r) => r.response),
      out.map((r) => r.errorCode),
      out.map((r) => r.errorMessage),
    ]);
    const failed = out.filter((r) => r.errorCode).length;
    if (failed) this.d.logger.info({ eventId: b.eventId, tenantId: b.tenantId, sent: out.length - failed, failed }, 'code sent messages; some reached no room');
  }
}
