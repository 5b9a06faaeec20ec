import type { Pool, SecretBox } from '@domaeka/core';
import type { Caller } from '../accounts/caller.js';
import { openHeaders, stateFromSnapshot, type CommandState, type StoredTarget } from '../commands/command-state.js';
import type { TableService } from '../data/table-service.js';
import { EXPORT_FORMAT, EXPORT_VERSION, isSecretReference, type ExportFile, type ExportTarget } from './backup-format.js';

const COMMANDS_SQL = `
  select c.id, c.command, c.pattern, c.description, c.timeout as timeout_ms, c.is_active, c.target_type, c.api_server_url, c.api_method,
         c.api_headers_enc, c.language, c.code, c.reply,
         coalesce((select jsonb_agg(jsonb_build_object('version', v.version, 'snapshot', v.snapshot, 'createdAt', v.created_at, 'restoredFrom', v.restored_from) order by v.version)
                     from kb_command_versions v where v.command_id = c.id), '[]'::jsonb) as versions
    from kb_commands c where c.tenant_id = $1 and c.deleted_at is null order by c.id`;
const SCHEDULES_SQL = `
  select c.command, s.cron, s.label, s.input_text, s.enabled,
         (select coalesce(jsonb_agg(jsonb_build_object('botName', coalesce(b.name, ''), 'room', x->>'room')), '[]'::jsonb)
            from jsonb_array_elements(s.rooms) x left join bots b on b.id = (x->>'botId')::uuid and b.tenant_id = s.tenant_id) as rooms
    from kb_schedules s join kb_commands c on c.id = s.command_id and c.deleted_at is null
   where s.tenant_id = $1 order by s.created_at, s.id`;
const STORE_SQL = `select key, value, expires_at from kb_store where tenant_id = $1 and (expires_at is null or expires_at > now()) order by key`;
const SECRETS_SQL = `select name from tenant_secrets where tenant_id = $1 order by name`;
const EGRESS_SQL = `select domain from kb_egress_domains where tenant_id = $1 order by domain`;
const TENANT_SQL = `select name, error_reply from tenants where id = $1`;

interface CommandRow {
  command: string;
  pattern: string | null;
  description: string | null;
  timeout_ms: number;
  is_active: boolean;
  target_type: 'http' | 'sandbox' | 'reply';
  api_server_url: string | null;
  api_method: string;
  api_headers_enc: string | null;
  code: string | null;
  reply: { text?: string; imageUrl?: string | null; buttons?: unknown[] } | null;
  versions: { version: number; snapshot: Record<string, unknown>; createdAt: string; restoredFrom: number | null }[];
}

/**
 * The tenant's export file (issue 15 item 6): one JSON document with its
 * commands and their whole version history, schedules (rooms by bot and
 * room name), store keys with their expiry, tables with columns and rows,
 * egress domains, the error reply and the NAMES of its secrets. Sealed
 * header values are opened only to keep `{{secret:NAME}}` references; any
 * literal value is written as null (to fill in after an import).
 */
export class ExportService {
  constructor(
    private readonly pool: Pool,
    private readonly secrets: SecretBox,
    private readonly tables: TableService,
  ) {}

  async export(caller: Caller): Promise<ExportFile> {
    const t = caller.tenantId;
    const [tenant, commands, schedules, store, secrets, egress] = await Promise.all([
      this.pool.query<{ name: string; error_reply: string | null }>(TENANT_SQL, [t]),
      this.pool.query<CommandRow>(COMMANDS_SQL, [t]),
      this.pool.query<{ command: string; cron: string; label: string; input_text: string; enabled: boolean; rooms: { botName: string; room: string }[] }>(SCHEDULES_SQL, [t]),
      this.pool.query<{ key: string; value: unknown; expires_at: Date | null }>(STORE_SQL, [t]),
      this.pool.query<{ name: string }>(SECRETS_SQL, [t]),
      this.pool.query<{ domain: string }>(EGRESS_SQL, [t]),
    ]);
    const listed = await this.tables.list(caller);
    const tables = [];
    for (const table of listed.tables) {
      const { rows } = await this.tables.allRows(caller, table.name);
      tables.push({ name: table.name, columns: table.columns, rows: rows.map((r) => r.map(cellOut)) });
    }
    return {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exportedAt: new Date().toISOString(),
      tenant: { name: tenant.rows[0]?.name ?? '' },
      commands: commands.rows.map((c) => ({
        command: c.command,
        pattern: c.pattern,
        description: c.description,
        timeoutMs: c.timeout_ms,
        isActive: c.is_active,
        target: this.target(rowTarget(c)),
        versions: c.versions.map((v) => {
          const s: CommandState = stateFromSnapshot(v.snapshot);
          return {
            version: v.version,
            command: s.command,
            pattern: s.pattern,
            description: s.description,
            timeoutMs: s.timeoutMs,
            isActive: s.isActive,
            target: this.target(s.target),
            createdAt: new Date(v.createdAt).toISOString(),
            restoredFrom: v.restoredFrom,
          };
        }),
      })),
      schedules: schedules.rows.map((s) => ({ command: s.command, cron: s.cron, label: s.label, input: s.input_text, enabled: s.enabled, rooms: s.rooms })),
      store: store.rows.map((s) => ({ key: s.key, value: s.value, expiresAt: s.expires_at ? s.expires_at.toISOString() : null })),
      tables,
      secrets: secrets.rows.map((s) => s.name),
      egressDomains: egress.rows.map((e) => e.domain),
      errorReply: tenant.rows[0]?.error_reply ?? null,
    };
  }

  private target(t: StoredTarget): ExportTarget {
    if (t.type === 'sandbox') return { type: 'sandbox', language: 'python', code: t.code };
    if (t.type === 'reply') return { type: 'reply', text: t.text, imageUrl: t.imageUrl, buttons: t.buttons };
    const headers = openHeaders(this.secrets, t.headersEnc);
    return { type: 'http', url: t.url, method: t.method, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isSecretReference(v) ? v : null])) };
  }
}

function rowTarget(c: CommandRow): StoredTarget {
  if (c.target_type === 'http') return { type: 'http', url: c.api_server_url ?? '', method: c.api_method as 'POST', headersEnc: c.api_headers_enc };
  if (c.target_type === 'reply') {
    const r = c.reply ?? {};
    return { type: 'reply', text: r.text ?? '', imageUrl: r.imageUrl ?? null, buttons: (r.buttons ?? []) as never };
  }
  return { type: 'sandbox', language: 'python', code: c.code ?? '' };
}

/** A cell as JSON: dates as ISO text, big numbers as text (as the table's rows come back). */
function cellOut(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return v;
}
