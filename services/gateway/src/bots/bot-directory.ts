import type { Pool, SecretBox } from '@domaeka/core';
import type { Clock } from '../clock.js';

/** A bot as the gateway needs it: identity and its (opened) signing secrets. */
export interface BotEntry {
  id: string;
  tenantId: string;
  name: string;
  active: boolean;
  secretKey: string;
  salt: string;
  /** Set when a `changed` event touched this bot: connections re-read it before their next packet. */
  stale: boolean;
}

interface Cached {
  entry: BotEntry | null;
  expiresAt: number;
}

export interface BotDirectoryOptions {
  /** Found, active bots are kept this long (changes arrive as events anyway). */
  positiveTtlMs?: number;
  /** Unknown or disabled bots are re-read this soon: a change event and a handshake travel different paths. */
  negativeTtlMs?: number;
}

// Exported so test/integration/hot-path-sql.test.ts prepares it against the migrated schema.
export const LOAD_SQL = 'select id, tenant_id, name, is_active, secret_key_enc, salt_enc from bots where name = $1';

/**
 * Bots by name, from the `bots` table, with `secret_key_enc`/`salt_enc`
 * opened by the SecretBox. Cached; entries are dropped on `changed` events
 * (entity `bot`) and concurrent look-ups of one name share one query.
 */
export class BotDirectory {
  private readonly byName = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<BotEntry | null>>();
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    opts: BotDirectoryOptions = {},
  ) {
    this.positiveTtlMs = opts.positiveTtlMs ?? 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 1000;
  }

  /** The bot (possibly inactive), or null when no bot has this name. */
  async get(name: string): Promise<BotEntry | null> {
    const hit = this.byName.get(name);
    if (hit && hit.expiresAt > this.clock.now() && !hit.entry?.stale) return hit.entry;
    let p = this.loading.get(name);
    if (!p) {
      p = this.load(name).finally(() => this.loading.delete(name));
      this.loading.set(name, p);
    }
    return p;
  }

  invalidateBot(botId: string): void {
    for (const [name, c] of this.byName) {
      if (c.entry?.id === botId || c.entry === null) this.drop(name, c);
    }
  }

  invalidateTenant(tenantId: string): void {
    for (const [name, c] of this.byName) {
      if (c.entry?.tenantId === tenantId || c.entry === null) this.drop(name, c);
    }
  }

  invalidateAll(): void {
    for (const [name, c] of this.byName) this.drop(name, c);
  }

  private drop(name: string, c: Cached): void {
    if (c.entry) c.entry.stale = true;
    this.byName.delete(name);
  }

  private async load(name: string): Promise<BotEntry | null> {
    const { rows } = await this.pool.query<{ id: string; tenant_id: string; name: string; is_active: boolean; secret_key_enc: string; salt_enc: string }>(
      LOAD_SQL,
      [name],
    );
    const row = rows[0];
    const entry: BotEntry | null = row
      ? {
          id: row.id,
          tenantId: row.tenant_id,
          name: row.name,
          active: row.is_active,
          secretKey: this.box.open(row.secret_key_enc),
          salt: this.box.open(row.salt_enc),
          stale: false,
        }
      : null;
    const ttl = entry?.active ? this.positiveTtlMs : this.negativeTtlMs;
    this.byName.set(name, { entry, expiresAt: this.clock.now() + ttl });
    return entry;
  }
}
