import { randomUUID } from 'node:crypto';
import type { PoolClient } from '@domaeka/core';
import type { CommandState } from '../commands/command-state.js';

/** An approved room of the importing tenant's bots (where a schedule may send). */
export interface RoomChoice {
  bot_id: string;
  bot_name: string;
  channel_id: string;
  room: string;
}

const COMMAND_SQL = `
  insert into kb_commands (tenant_id, owner_id, command, pattern, description, target_type, api_server_url, api_method, api_headers_enc,
                           language, code, reply, timeout, is_active, version, created_at, updated_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, now(), now())
  returning id::text as id`;
const VERSION_SQL = `
  insert into kb_command_versions (command_id, version, snapshot, created_by, restored_from, created_at)
  values ($1, $2, $3::jsonb, $4, $5, $6)`;
const SCHEDULE_SQL = `
  insert into kb_schedules (id, tenant_id, command_id, cron, label, rooms, input_text, enabled, next_fire_at)
  values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)`;

/**
 * A command as it was, with its version history (each version's snapshot
 * as the editor writes it, headers sealed with this platform's key); the
 * command's `version` is the newest one's, so the next save follows it.
 */
export async function insertCommand(
  client: PoolClient,
  tenantId: string,
  userId: string,
  s: CommandState,
  versions: { version: number; createdAt: string; restoredFrom: number | null; state: CommandState }[],
): Promise<string> {
  const t = s.target;
  const latest = versions.reduce((m, v) => Math.max(m, v.version), 0) || 1;
  const { rows } = await client.query<{ id: string }>(COMMAND_SQL, [
    tenantId,
    userId,
    s.command,
    s.pattern,
    s.description,
    t.type,
    t.type === 'http' ? t.url : null,
    t.type === 'http' ? t.method : 'POST',
    t.type === 'http' ? t.headersEnc : null,
    t.type === 'sandbox' ? t.language : null,
    t.type === 'sandbox' ? t.code : null,
    t.type === 'reply' ? JSON.stringify({ text: t.text, imageUrl: t.imageUrl, buttons: t.buttons }) : null,
    s.timeoutMs,
    s.isActive,
    latest,
  ]);
  const id = rows[0]!.id;
  const history = versions.length ? versions : [{ version: 1, createdAt: new Date().toISOString(), restoredFrom: null, state: s }];
  // The newest version IS the command as it stands (the file's top level), whatever its snapshot said.
  for (const v of history) {
    const state = v.version === latest ? s : v.state;
    await client.query(VERSION_SQL, [id, v.version, JSON.stringify(state), userId, v.restoredFrom, new Date(v.createdAt)]);
  }
  return id;
}

export async function insertSchedule(
  client: PoolClient,
  tenantId: string,
  commandId: string,
  s: { cron: string; label: string; input: string; enabled: boolean },
  rooms: RoomChoice[],
  nextFireAt: Date | null,
): Promise<void> {
  const stored = rooms.map((r) => ({ botId: r.bot_id, room: r.room, channelId: r.channel_id }));
  await client.query(SCHEDULE_SQL, [randomUUID(), tenantId, commandId, s.cron, s.label, JSON.stringify(stored), s.input, s.enabled, nextFireAt]);
}
