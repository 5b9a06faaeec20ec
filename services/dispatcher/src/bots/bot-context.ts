import { randomUUID } from 'node:crypto';
import type { Pool } from '@domaeka/core';
import type { ChangedPayload } from '@domaeka/broker';
import { TtlCache, type Clock } from '../cache/ttl-cache.js';

export interface BotInfo {
  id: string;
  name: string;
  tenantId: string;
  isActive: boolean;
  manualRoomApproval: boolean;
  /** The tenant's plan caps every command's timeout. */
  timeoutMaxMs: number;
  /** The tenant's own words for a room when its code fails (`tenants.error_reply`); null: the default. */
  errorReply: string | null;
  /** The plan's sandbox limits (a runner keeps a pool per profile). */
  plan: PlanLimits;
}

export interface PlanLimits {
  id: string;
  timeoutMaxMs: number;
  memoryMb: number;
  cpus: number;
  maxConcurrency: number;
  mode: 'ephemeral' | 'dedicated';
  /** `allowlist`: sandbox code may reach the tenant's named domains through the runner's proxy; `none`: no network. */
  network: 'none' | 'allowlist';
  /** Most room calls of the tenant one dispatcher holds at once; beyond, a call is answered KB_ERR_BUSY (RoomCallsInHand). */
  roomCallsInFlight: number;
  /** The tenant's key-value store quotas (keys, bytes), sent to the runner with each call. */
  storeMaxKeys: number;
  storeMaxBytes: number;
  /** The tenant's tables' limits (schema bytes, rows per result, statement timeout), sent to the runner with each call. */
  dbMaxBytes: number;
  dbMaxRows: number;
  dbStatementTimeoutMs: number;
}

/** 'missing': no such device row for this bot. */
export type ApprovalStatus = 'pending' | 'approved' | 'blocked' | 'missing';

export interface RoomSighting {
  channelId: string;
  room: string;
  isGroupChat: boolean;
}

export interface CacheTtls {
  /** Approved / existing states. */
  ttlMs: number;
  /**
   * Unapproved and missing states. Short because a `changed` event and the
   * next chat message travel different queues: a device approved and then
   * messaging at once must be served even if the event arrives second.
   */
  negativeTtlMs: number;
}

interface BotRow {
  id: string;
  name: string;
  tenant_id: string;
  is_active: boolean;
  manual_room_approval: boolean;
  timeout_max_ms: number;
  plan_id: string;
  memory_mb: number;
  cpus: string;
  max_concurrency: number;
  mode: 'ephemeral' | 'dedicated';
  network: 'none' | 'allowlist';
  room_calls_in_flight: number;
  store_max_keys: number;
  /** bigint: pg hands it over as text. */
  store_max_bytes: string;
  /** bigint: text. */
  db_max_bytes: string;
  db_max_rows: number;
  db_statement_timeout_ms: number;
  error_reply: string | null;
}

export const BOT_SQL = `
  select b.id, b.name, b.tenant_id, b.is_active, b.manual_room_approval, p.timeout_max_ms,
         p.id as plan_id, p.memory_mb, p.cpus::text as cpus, p.max_concurrency, p.mode, p.network,
         p.room_calls_in_flight, p.store_max_keys, p.store_max_bytes,
         p.db_max_bytes, p.db_max_rows, p.db_statement_timeout_ms, t.error_reply
    from bots b join tenants t on t.id = b.tenant_id join plans p on p.id = t.plan_id
   where b.id = $1`;

export const DEVICE_SQL = `select status from devices where id = $1 and bot_id = $2`;

// Rooms are created on first sight; the update keeps the name current and returns the stored status.
export const ROOM_SQL = `
  insert into rooms (id, bot_id, channel_id, name, status, is_group_chat)
  values ($1, $2, $3, $4, $5, $6)
  on conflict (bot_id, channel_id) do update set name = excluded.name, last_seen_at = now()
  returning status`;

/** Who a message belongs to and whether it may be answered: bot -> tenant and plan, device and room approval. */
export class BotContext {
  private readonly bots: TtlCache<string, BotInfo | null>;
  private readonly devices: TtlCache<string, ApprovalStatus>;
  private readonly rooms: TtlCache<string, ApprovalStatus>;

  constructor(
    private readonly pool: Pool,
    clock: Clock,
    private readonly ttls: CacheTtls,
  ) {
    this.bots = new TtlCache(clock);
    this.devices = new TtlCache(clock);
    this.rooms = new TtlCache(clock);
  }

  /** The bot, or null when it no longer exists. */
  bot(botId: string): Promise<BotInfo | null> {
    return this.bots.get(botId, () => this.loadBot(botId), (b) => (b?.isActive ? this.ttls.ttlMs : this.ttls.negativeTtlMs));
  }

  /** `fresh`: read from the database, not the cache (a message the gateway kept until the phone's approval). */
  deviceStatus(botId: string, deviceId: string, fresh = false): Promise<ApprovalStatus> {
    if (fresh) this.devices.delete(`${botId}/${deviceId}`);
    return this.devices.get(`${botId}/${deviceId}`, () => this.loadDevice(botId, deviceId), (s) => this.ttlOf(s));
  }

  /** The room's status; a room seen for the first time is stored (approved, or pending under manual room approval). */
  roomStatus(bot: BotInfo, sighting: RoomSighting): Promise<ApprovalStatus> {
    return this.rooms.get(`${bot.id}/${sighting.channelId}`, () => this.upsertRoom(bot, sighting), (s) => this.ttlOf(s));
  }

  /** Drops what a `changed` event made stale. */
  invalidate(change: ChangedPayload): void {
    const { entity, botId } = change;
    if (entity === 'commands') return;
    if (botId === null) {
      if (entity === 'bot') this.bots.clear();
      this.devices.clear();
      this.rooms.clear();
      return;
    }
    const ofBot = (key: string) => key.startsWith(`${botId}/`);
    if (entity === 'bot') {
      this.bots.delete(botId);
      // manual_room_approval may have changed: room states are re-read as well.
      this.rooms.deleteWhere(ofBot);
      this.devices.deleteWhere(ofBot);
    } else if (entity === 'device') {
      this.devices.deleteWhere(ofBot);
    } else {
      this.rooms.deleteWhere(ofBot);
    }
  }

  /** Drops everything known about one bot. */
  forget(botId: string): void {
    this.invalidate({ entity: 'bot', tenantId: null, botId });
  }

  clear(): void {
    this.bots.clear();
    this.devices.clear();
    this.rooms.clear();
  }

  private ttlOf(s: ApprovalStatus): number {
    return s === 'approved' ? this.ttls.ttlMs : this.ttls.negativeTtlMs;
  }

  private async loadBot(botId: string): Promise<BotInfo | null> {
    const { rows } = await this.pool.query<BotRow>(BOT_SQL, [botId]);
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id,
      name: r.name,
      tenantId: r.tenant_id,
      isActive: r.is_active,
      manualRoomApproval: r.manual_room_approval,
      timeoutMaxMs: r.timeout_max_ms,
      errorReply: r.error_reply,
      plan: {
        id: r.plan_id,
        timeoutMaxMs: r.timeout_max_ms,
        memoryMb: r.memory_mb,
        cpus: Number(r.cpus),
        maxConcurrency: r.max_concurrency,
        mode: r.mode,
        network: r.network,
        roomCallsInFlight: r.room_calls_in_flight,
        storeMaxKeys: r.store_max_keys,
        storeMaxBytes: Number(r.store_max_bytes),
        dbMaxBytes: Number(r.db_max_bytes),
        dbMaxRows: r.db_max_rows,
        dbStatementTimeoutMs: r.db_statement_timeout_ms,
      },
    };
  }

  private async loadDevice(botId: string, deviceId: string): Promise<ApprovalStatus> {
    const { rows } = await this.pool.query<{ status: ApprovalStatus }>(DEVICE_SQL, [deviceId, botId]);
    return rows[0]?.status ?? 'missing';
  }

  private async upsertRoom(bot: BotInfo, s: RoomSighting): Promise<ApprovalStatus> {
    const initial = bot.manualRoomApproval ? 'pending' : 'approved';
    const { rows } = await this.pool.query<{ status: ApprovalStatus }>(ROOM_SQL, [
      randomUUID(),
      bot.id,
      s.channelId,
      s.room,
      initial,
      s.isGroupChat,
    ]);
    return rows[0]?.status ?? 'missing';
  }
}
