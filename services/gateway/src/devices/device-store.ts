import { randomUUID } from 'node:crypto';
import { isDatabaseDown, type Logger, type Pool } from '@domaeka/core';

export type DeviceStatus = 'pending' | 'approved' | 'blocked';

export interface DeviceRecord {
  id: string;
  status: DeviceStatus;
}

export interface DeviceSeen {
  clientType: string | null;
  clientVersion: string | null;
  deviceIp: string | null;
  deviceInfo: string | null;
}

interface PendingUpdate {
  seenAt: Date;
  rttMs: number | null;
  monitoring: Record<string, number> | null;
  rejected: number;
}

// Exported so test/integration/hot-path-sql.test.ts prepares them against the migrated schema.
export const FIND_SQL = 'select id, status from devices where bot_id = $1 and device_key = $2';

export const UPSERT_SQL = `
  insert into devices (id, bot_id, device_key, status, client_type, client_version, device_ip, device_info)
  values ($1, $2, $3, 'pending', $4, $5, $6, $7)
  on conflict (bot_id, device_key) do update set
    client_type = excluded.client_type, client_version = excluded.client_version,
    device_ip = excluded.device_ip, device_info = excluded.device_info, last_seen_at = now()
  returning id, status`;

// One statement for the whole batch: each device's last seen, RTT, monitoring and rejected count.
export const STATS_SQL = `
  update devices d set
    last_seen_at = greatest(d.last_seen_at, u.seen),
    last_rtt_ms = coalesce(u.rtt, d.last_rtt_ms),
    monitoring = coalesce(u.mon, d.monitoring),
    rejected_packets = d.rejected_packets + u.rej
  from unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::jsonb[], $5::int[]) as u(id, seen, rtt, mon, rej)
  where d.id = u.id`;

/**
 * The `devices` rows. Look-ups and the upsert happen once per connection;
 * what changes per packet (last seen, RTT, monitoring, rejected counter) is
 * gathered in memory and written in one batched statement every
 * `flushMs`, so the packet path never waits on PostgreSQL. While the
 * database is down the batch is kept and retried.
 */
export class DeviceStore {
  private pending = new Map<string, PendingUpdate>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly flushMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  async find(botId: string, deviceKey: string): Promise<DeviceRecord | null> {
    const { rows } = await this.pool.query<DeviceRecord>(FIND_SQL, [botId, deviceKey]);
    return rows[0] ?? null;
  }

  /** Records the device (new ones as pending) when its connection first counts. */
  async upsertSeen(botId: string, deviceKey: string, seen: DeviceSeen): Promise<DeviceRecord> {
    const { rows } = await this.pool.query<DeviceRecord>(
      UPSERT_SQL,
      [randomUUID(), botId, deviceKey, seen.clientType, seen.clientVersion, seen.deviceIp, seen.deviceInfo],
    );
    return rows[0]!;
  }

  touch(deviceId: string): void {
    this.entry(deviceId).seenAt = new Date();
  }

  recordPong(deviceId: string, rttMs: number | null, monitoring: Record<string, number> | null): void {
    const e = this.entry(deviceId);
    e.seenAt = new Date();
    if (rttMs !== null) e.rttMs = rttMs;
    if (monitoring) e.monitoring = monitoring;
  }

  countRejected(deviceId: string): void {
    this.entry(deviceId).rejected++;
  }

  /** Writes what accumulated; on a database outage the batch is merged back for the next try. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch)
      .catch((err) => {
        if (isDatabaseDown(err)) {
          this.mergeBack(batch);
          this.logger.warn({ err: String(err), devices: batch.size }, 'device stats not written; database down, will retry');
        } else {
          this.logger.error({ err: String(err), devices: batch.size }, 'device stats write failed');
        }
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  private async write(batch: Map<string, PendingUpdate>): Promise<void> {
    const ids: string[] = [];
    const seen: Date[] = [];
    const rtt: (number | null)[] = [];
    const mon: (string | null)[] = [];
    const rej: number[] = [];
    for (const [id, u] of batch) {
      ids.push(id);
      seen.push(u.seenAt);
      rtt.push(u.rttMs);
      mon.push(u.monitoring ? JSON.stringify(u.monitoring) : null);
      rej.push(u.rejected);
    }
    await this.pool.query(STATS_SQL, [ids, seen, rtt, mon, rej]);
  }

  private mergeBack(batch: Map<string, PendingUpdate>): void {
    for (const [id, old] of batch) {
      const cur = this.pending.get(id);
      if (!cur) this.pending.set(id, old);
      else {
        cur.rejected += old.rejected;
        cur.rttMs ??= old.rttMs;
        cur.monitoring ??= old.monitoring;
      }
    }
  }

  private entry(deviceId: string): PendingUpdate {
    let e = this.pending.get(deviceId);
    if (!e) {
      e = { seenAt: new Date(), rttMs: null, monitoring: null, rejected: 0 };
      this.pending.set(deviceId, e);
    }
    return e;
  }
}
