import { type Pool, type SecretBox } from '@domaeka/core';
import { CommandSet, type ResolvableCommand } from '@domaeka/calls';
import type { Logger } from 'pino';
import { TenantCache } from '../cache/tenant-cache.js';
import type { Clock } from '../cache/ttl-cache.js';

export type CommandTarget =
  | {
      type: 'http';
      url: string;
      method: string;
      /** Opened from api_headers_enc; null when it could not be opened (call fails with KB_ERR_INTERNAL). */
      headers: Record<string, string> | null;
    }
  | {
      type: 'sandbox';
      language: string | null;
      code: string;
      /** `<commandId>:<version>`: the runtime reloads only when it changed. */
      codeVersion: string;
    }
  | { type: 'reply'; text: string; imageUrl: string | null; buttons: { label: string; url: string }[] };

export interface CommandDef extends ResolvableCommand {
  tenantId: string;
  /** The command's own timeout (ms), before the plan's cap. */
  timeoutMs: number;
  target: CommandTarget;
}

interface CommandRow {
  id: string;
  command: string;
  pattern: string | null;
  target_type: 'http' | 'sandbox' | 'reply';
  api_server_url: string | null;
  api_method: string | null;
  api_headers_enc: string | null;
  language: string | null;
  code: string | null;
  reply: { text?: unknown; imageUrl?: unknown; buttons?: unknown } | null;
  version: number;
  timeout: number;
  created_ms: number;
}

export const LOAD_SQL = `
  select id::text as id, command, pattern, target_type, api_server_url, api_method, api_headers_enc,
         language, case when target_type = 'sandbox' then code end as code, reply, version,
         timeout, (extract(epoch from created_at) * 1000)::float8 as created_ms
    from kb_commands
   where tenant_id = $1 and is_active and deleted_at is null`;

/**
 * Each tenant's active commands, compiled once (one query) and cached.
 * A `changed` event for the tenant's commands drops the entry; the TTL is
 * the fallback for events missed while the broker connection was down.
 */
export class CommandCache extends TenantCache<CommandSet<CommandDef>> {
  constructor(
    private readonly pool: Pool,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
    clock: Clock,
    ttlMs: number,
  ) {
    super(clock, ttlMs);
  }

  protected async load(tenantId: string): Promise<CommandSet<CommandDef>> {
    const { rows } = await this.pool.query<CommandRow>(LOAD_SQL, [tenantId]);
    const set = new CommandSet(rows.map((r) => this.toDef(tenantId, r)));
    for (const r of set.rejected) this.logger.warn({ tenantId, commandId: r.id, reason: r.reason }, 'command left out');
    return set;
  }

  private toDef(tenantId: string, r: CommandRow): CommandDef {
    const target: CommandTarget =
      r.target_type === 'http'
        ? { type: 'http', url: r.api_server_url ?? '', method: (r.api_method ?? 'POST').toUpperCase(), headers: this.openHeaders(r) }
        : r.target_type === 'reply'
          ? fixedReplyOf(r.reply)
          : { type: 'sandbox', language: r.language, code: r.code ?? '', codeVersion: `${r.id}:${r.version}` };
    return {
      id: r.id,
      tenantId,
      command: r.command,
      pattern: r.pattern,
      createdAt: r.created_ms,
      timeoutMs: r.timeout,
      target,
    };
  }

  private openHeaders(r: CommandRow): Record<string, string> | null {
    if (!r.api_headers_enc) return {};
    try {
      const parsed: unknown = JSON.parse(this.secrets.open(r.api_headers_enc));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (v !== null && v !== undefined) headers[k] = String(v);
      return headers;
    } catch {
      // No error text either: JSON.parse quotes the input, which holds the tenant's credentials.
      this.logger.error({ commandId: r.id }, 'api headers could not be opened (wrong SECRETS_KEY or not a JSON object)');
      return null;
    }
  }
}

/** The `reply` column as the API wrote it (services/api/src/commands/reply-rules.ts checked it). */
function fixedReplyOf(raw: CommandRow['reply']): Extract<CommandTarget, { type: 'reply' }> {
  const r = raw ?? {};
  const buttons = Array.isArray(r.buttons)
    ? r.buttons.filter((b): b is { label: string; url: string } => typeof b?.label === 'string' && typeof b?.url === 'string')
    : [];
  return { type: 'reply', text: typeof r.text === 'string' ? r.text : '', imageUrl: typeof r.imageUrl === 'string' ? r.imageUrl : null, buttons };
}
