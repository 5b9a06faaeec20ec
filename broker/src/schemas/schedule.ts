import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

/** A room a schedule sends to: one of the tenant's bots and a room that bot knows (approved). */
export const ScheduleRoom = Type.Object(
  {
    botId: Type.String({ format: 'uuid' }),
    room: Type.String({ maxLength: 500 }),
    channelId: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type ScheduleRoom = Static<typeof ScheduleRoom>;

/**
 * One period of a schedule, published by a scheduler once it committed the
 * fire row (`kb_schedule_fires`): the dispatcher runs the command once
 * (`source: 'schedule'`, one `kb_api_logs` row) and sends the reply to each
 * room as `scheduleMessage`. The envelope id is the fire's event id: a
 * republished fire (a scheduler that crashed before its confirm) is
 * answered from the outbox, never run twice.
 */
export const ScheduleFirePayload = Type.Object(
  {
    scheduleId: Type.String({ format: 'uuid' }),
    tenantId: Type.String({ format: 'uuid' }),
    commandId: Type.String({ pattern: '^[0-9]{1,19}$' }),
    /** The period (ISO-8601 UTC), e.g. 09:00 KST = `...T00:00:00.000Z`. */
    fireAt: Type.String({ maxLength: 40 }),
    /** How late the scheduler took it (ms): within the missed-fire grace. */
    lateMs: Type.Integer({ minimum: 0 }),
    /** The schedule's Korean label (`매일 오전 9시`). */
    label: Type.String({ maxLength: 200 }),
    /** The schedule's input text: the command's `raw_text`. */
    input: Type.String({ maxLength: 2000 }),
    rooms: Type.Array(ScheduleRoom, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type ScheduleFirePayload = Static<typeof ScheduleFirePayload>;

export const ScheduleFireEvent = Envelope('schedule.fire', 1, ScheduleFirePayload);
export type ScheduleFireEvent = Static<typeof ScheduleFireEvent>;
