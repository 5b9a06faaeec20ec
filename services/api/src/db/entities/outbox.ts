import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/**
 * The dispatcher's outbox (`kb_outbox`): one row per resolved event (every
 * HTTP-ingress event), unique on the event id and on (bot, channel, log id).
 * Written on the hot path with raw SQL; mapped here for the management side.
 */
export interface Outbox {
  eventId: string;
  tenantId: string;
  botId: string;
  channelId: string;
  logId: string | null;
  commandId: number | null;
  source: string;
  status: 'pending' | 'replied' | 'no_match' | 'ignored';
  reply: Record<string, unknown> | null;
  replyRoute: string | null;
  createdAt: Date;
  completedAt: Date | null;
  /** Deliveries that claimed the row; past 3 the event is answered with an error instead of calling the target again. */
  attempts: number;
}

export const Outbox = new EntitySchema<Outbox>({
  name: 'Outbox',
  tableName: 'kb_outbox',
  indexes: [
    { name: 'kb_outbox_created_idx', properties: ['createdAt'] },
    {
      name: 'kb_outbox_log_uq',
      expression: 'create unique index kb_outbox_log_uq on kb_outbox(bot_id, channel_id, log_id) where log_id is not null',
    },
  ],
  properties: {
    eventId: { type: 'uuid', fieldName: 'event_id', primary: true },
    tenantId: foreignKey('Tenant', 'kb_outbox', 'tenant_id'),
    botId: foreignKey('Bot', 'kb_outbox', 'bot_id', { deleteRule: 'cascade' }),
    channelId: { type: 'string', columnType: 'text', fieldName: 'channel_id' },
    logId: { type: 'string', columnType: 'text', fieldName: 'log_id', nullable: true },
    commandId: foreignKey('Command', 'kb_outbox', 'command_id', { nullable: true }),
    source: { type: 'string', columnType: 'text' },
    status: { enum: true, items: ['pending', 'replied', 'no_match', 'ignored'], columnType: 'text' },
    reply: { type: 'json', columnType: 'jsonb', nullable: true },
    replyRoute: { type: 'string', columnType: 'text', fieldName: 'reply_route', nullable: true },
    createdAt: createdAtColumn('created_at'),
    completedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'completed_at', nullable: true },
    attempts: { type: 'integer', default: 1 },
  },
});
