import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey, identityColumn } from './columns.js';

/** One target call (`kb_api_logs`, the seed's table plus tenant and event id); kept per plan retention. */
export interface ApiLog {
  id: number;
  tenantId: string;
  commandId: number | null;
  eventId: string | null;
  botId: string | null;
  channelId: string | null;
  requestData: string | null;
  responseData: string | null;
  statusCode: number | null;
  /** Milliseconds. */
  responseTime: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** The analyze event's source (`phone`, `http`, `ingress`, `kakao-skill`, `schedule`; `send` for a message code sent); null for calls logged before the column. */
  source: string | null;
  createdAt: Date;
}

export const ApiLog = new EntitySchema<ApiLog>({
  name: 'ApiLog',
  tableName: 'kb_api_logs',
  indexes: [
    { name: 'kb_api_logs_created_idx', properties: ['createdAt'] },
    { name: 'kb_api_logs_tenant_idx', expression: 'create index kb_api_logs_tenant_idx on kb_api_logs(tenant_id, created_at desc)' },
    { name: 'kb_api_logs_command_idx', expression: 'create index kb_api_logs_command_idx on kb_api_logs(command_id, created_at desc)' },
    { name: 'kb_api_logs_schedule_event_idx', expression: "create index kb_api_logs_schedule_event_idx on kb_api_logs(event_id) where source = 'schedule'" },
    { name: 'kb_api_logs_sends_idx', expression: "create index kb_api_logs_sends_idx on kb_api_logs(tenant_id, created_at) where source = 'send'" },
  ],
  properties: {
    id: identityColumn(),
    tenantId: foreignKey('Tenant', 'kb_api_logs', 'tenant_id'),
    commandId: foreignKey('Command', 'kb_api_logs', 'command_id', { nullable: true }),
    eventId: { type: 'uuid', fieldName: 'event_id', nullable: true },
    botId: { type: 'uuid', fieldName: 'bot_id', nullable: true },
    channelId: { type: 'string', columnType: 'text', fieldName: 'channel_id', nullable: true },
    requestData: { type: 'string', columnType: 'text', fieldName: 'request_data', nullable: true },
    responseData: { type: 'string', columnType: 'text', fieldName: 'response_data', nullable: true },
    statusCode: { type: 'integer', fieldName: 'status_code', nullable: true },
    responseTime: { type: 'integer', fieldName: 'response_time', nullable: true },
    errorCode: { type: 'string', columnType: 'text', fieldName: 'error_code', nullable: true },
    errorMessage: { type: 'string', columnType: 'text', fieldName: 'error_message', nullable: true },
    source: { type: 'string', columnType: 'text', nullable: true },
    createdAt: createdAtColumn('created_at'),
  },
});
