import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey, identityColumn } from './columns.js';

/**
 * A room command (`kb_commands`, the seed's table): command words, an
 * optional RE2 pattern and a target (the tenant's HTTP API or sandboxed
 * Python). Deleting sets `deletedAt` so its logs stay readable.
 */
export interface Command {
  id: number;
  tenantId: string;
  ownerId: string | null;
  command: string;
  pattern: string | null;
  description: string | null;
  targetType: 'http' | 'sandbox' | 'reply';
  apiServerUrl: string | null;
  apiMethod: string;
  /** SecretBox-sealed JSON object of header name -> value. */
  apiHeadersEnc: string | null;
  language: string | null;
  code: string | null;
  /** A fixed reply's answer (`target_type = 'reply'`): `{text, imageUrl, buttons}`. */
  reply: Record<string, unknown> | null;
  /** Milliseconds (column `timeout`, the seed's name). */
  timeoutMs: number;
  isActive: boolean;
  version: number;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const Command = new EntitySchema<Command>({
  name: 'Command',
  tableName: 'kb_commands',
  indexes: [
    { name: 'kb_commands_command_idx', properties: ['command'] },
    { name: 'kb_commands_tenant_idx', expression: 'create index kb_commands_tenant_idx on kb_commands(tenant_id) where deleted_at is null' },
  ],
  properties: {
    id: identityColumn(),
    tenantId: foreignKey('Tenant', 'kb_commands', 'tenant_id'),
    ownerId: foreignKey('User', 'kb_commands', 'owner_id', { nullable: true }),
    command: { type: 'string', columnType: 'varchar(50)', length: 50 },
    pattern: { type: 'string', columnType: 'varchar(255)', length: 255, nullable: true },
    description: { type: 'string', columnType: 'text', nullable: true },
    targetType: { enum: true, items: ['http', 'sandbox', 'reply'], columnType: 'text', fieldName: 'target_type' },
    apiServerUrl: { type: 'string', columnType: 'varchar(500)', length: 500, fieldName: 'api_server_url', nullable: true },
    apiMethod: { type: 'string', columnType: 'varchar(10)', length: 10, fieldName: 'api_method', default: 'POST' },
    apiHeadersEnc: { type: 'string', columnType: 'text', fieldName: 'api_headers_enc', nullable: true, hidden: true },
    language: { type: 'string', columnType: 'text', nullable: true },
    code: { type: 'string', columnType: 'text', nullable: true },
    reply: { type: 'json', columnType: 'jsonb', nullable: true },
    timeoutMs: { type: 'integer', fieldName: 'timeout', default: 5000 },
    isActive: { type: 'boolean', fieldName: 'is_active', default: true },
    version: { type: 'integer', default: 1 },
    deletedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'deleted_at', nullable: true },
    createdAt: createdAtColumn('created_at'),
    updatedAt: {
      type: 'datetime',
      columnType: 'timestamptz',
      fieldName: 'updated_at',
      defaultRaw: 'now()',
      onCreate: () => new Date(),
      onUpdate: () => new Date(),
    },
  },
});
