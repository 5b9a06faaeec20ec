import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/**
 * An event that entered through `POST /api/v1/messages` (`kb_ingress_events`):
 * proves which tenant may read its outcome. `channelId`/`logId` (second
 * migration) let the outcome say "duplicate".
 */
export interface IngressEvent {
  eventId: string;
  tenantId: string;
  botId: string;
  channelId: string | null;
  logId: string | null;
  createdAt: Date;
}

export const IngressEvent = new EntitySchema<IngressEvent>({
  name: 'IngressEvent',
  tableName: 'kb_ingress_events',
  properties: {
    eventId: { type: 'uuid', fieldName: 'event_id', primary: true },
    tenantId: foreignKey('Tenant', 'kb_ingress_events', 'tenant_id'),
    botId: foreignKey('Bot', 'kb_ingress_events', 'bot_id', { deleteRule: 'cascade' }),
    channelId: { type: 'string', columnType: 'text', fieldName: 'channel_id', nullable: true },
    logId: { type: 'string', columnType: 'text', fieldName: 'log_id', nullable: true },
    createdAt: createdAtColumn('created_at'),
  },
});
