import { EntitySchema, type PrimaryKeyProp } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** One saved state of a command (`kb_command_versions`); api headers stay sealed inside the snapshot. */
export interface CommandVersion {
  [PrimaryKeyProp]?: ['commandId', 'version'];
  commandId: number;
  version: number;
  snapshot: Record<string, unknown>;
  createdBy: string | null;
  /** Set by a rollback: the version this one restored. */
  restoredFrom: number | null;
  createdAt: Date;
}

export const CommandVersion = new EntitySchema<CommandVersion>({
  name: 'CommandVersion',
  tableName: 'kb_command_versions',
  properties: {
    commandId: { ...foreignKey('Command', 'kb_command_versions', 'command_id'), primary: true },
    version: { type: 'integer', primary: true, autoincrement: false },
    snapshot: { type: 'json', columnType: 'jsonb' },
    createdBy: foreignKey('User', 'kb_command_versions', 'created_by', { nullable: true }),
    restoredFrom: { type: 'integer', fieldName: 'restored_from', nullable: true },
    createdAt: createdAtColumn('created_at'),
  },
});
