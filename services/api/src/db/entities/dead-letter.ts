import { EntitySchema } from '@mikro-orm/core';
import type { DeadLetterReason, DeadLetterStatus } from '@domaeka/broker/contracts';
import { createdAtColumn, foreignKey, identityColumn } from './columns.js';

/**
 * A message that reached `<prefix>.dead` (`kb_dead_letters`), moved here by
 * the API's DeadLetterKeeper; an administrator replays it to where it died
 * or discards it. Headers are kept without anything secret-shaped.
 */
export interface DeadLetter {
  id: number;
  receivedAt: Date;
  messageId: string | null;
  /** The AMQP `type` property (`reply.v1`, `analyze.v1`, ...). */
  messageType: string | null;
  /** Where it was first published (from `x-death`), null when unknown (a message our consumer refused). */
  exchange: string | null;
  routingKey: string | null;
  /** The queue it died in. */
  queue: string | null;
  reason: DeadLetterReason;
  /** Our consumer's refusal text (`x-kb-reason`), when it refused the message. */
  detail: string | null;
  deathCount: number;
  headers: Record<string, unknown>;
  /** AMQP properties needed to publish it again (contentType, type, messageId, correlationId, replyTo, persistent). */
  properties: Record<string, unknown>;
  body: Buffer;
  bodyBytes: number;
  /** Only the first bytes were kept (too large): it cannot be replayed. */
  bodyTruncated: boolean;
  status: DeadLetterStatus;
  actedBy: string | null;
  actedAt: Date | null;
}

export const DeadLetter = new EntitySchema<DeadLetter>({
  name: 'DeadLetter',
  tableName: 'kb_dead_letters',
  indexes: [
    { name: 'kb_dead_letters_pending_msg_key', expression: `create unique index kb_dead_letters_pending_msg_key on kb_dead_letters(message_id) where status = 'pending'` },
    { name: 'kb_dead_letters_status_idx', expression: 'create index kb_dead_letters_status_idx on kb_dead_letters(status, id desc)' },
  ],
  properties: {
    id: identityColumn(),
    receivedAt: createdAtColumn('received_at'),
    messageId: { type: 'string', columnType: 'text', fieldName: 'message_id', nullable: true },
    messageType: { type: 'string', columnType: 'text', fieldName: 'message_type', nullable: true },
    exchange: { type: 'string', columnType: 'text', nullable: true },
    routingKey: { type: 'string', columnType: 'text', fieldName: 'routing_key', nullable: true },
    queue: { type: 'string', columnType: 'text', nullable: true },
    reason: { enum: true, items: ['expired', 'rejected', 'delivery_limit', 'maxlen', 'unknown'], columnType: 'text' },
    detail: { type: 'string', columnType: 'text', nullable: true },
    deathCount: { type: 'integer', fieldName: 'death_count', default: 1 },
    headers: { type: 'json', columnType: 'jsonb', default: '{}' },
    properties: { type: 'json', columnType: 'jsonb', default: '{}' },
    body: { type: 'blob', columnType: 'bytea' },
    bodyBytes: { type: 'integer', fieldName: 'body_bytes' },
    bodyTruncated: { type: 'boolean', fieldName: 'body_truncated', default: false },
    status: { enum: true, items: ['pending', 'replayed', 'discarded'], columnType: 'text', default: 'pending' },
    actedBy: foreignKey('User', 'kb_dead_letters', 'acted_by', { nullable: true }),
    actedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'acted_at', nullable: true },
  },
});
