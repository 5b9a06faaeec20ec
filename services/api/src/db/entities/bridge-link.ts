import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/**
 * A single-use download link of a bot's pre-filled bridge script
 * (`kb_bridge_links`): `tokenHash` is the SHA-256 hex of the link's token,
 * never the token. The request that uses it deletes it; past `expiresAt`
 * it is spent.
 */
export interface BridgeLink {
  tokenHash: string;
  tenantId: string;
  botId: string;
  createdAt: Date;
  expiresAt: Date;
}

export const BridgeLink = new EntitySchema<BridgeLink>({
  name: 'BridgeLink',
  tableName: 'kb_bridge_links',
  properties: {
    tokenHash: { type: 'string', columnType: 'text', fieldName: 'token_hash', primary: true },
    tenantId: foreignKey('Tenant', 'kb_bridge_links', 'tenant_id', { deleteRule: 'cascade' }),
    botId: { ...foreignKey('Bot', 'kb_bridge_links', 'bot_id', { deleteRule: 'cascade' }), index: 'kb_bridge_links_bot_idx' },
    createdAt: createdAtColumn('created_at'),
    expiresAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'expires_at', index: 'kb_bridge_links_expires_idx' },
  },
});
