import { DeadLetter } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';

/** A redelivered message whose row is still pending is not stored twice (unique pending message id). */
export const INSERT_DEAD_LETTER_SQL = `
  insert into kb_dead_letters
    (message_id, message_type, exchange, routing_key, queue, reason, detail, death_count, headers, properties, body, body_bytes, body_truncated)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?)
  on conflict (message_id) where status = 'pending' do nothing`;

export const DEAD_LETTER_COUNTS_SQL = `select count(*) filter (where status = 'pending') as pending, count(*) as total from kb_dead_letters`;

/** One message off the dead-letter queue, as the keeper's rules made it (headers already without anything secret-shaped). */
export type NewDeadLetter = Omit<DeadLetter, 'id' | 'receivedAt' | 'status' | 'actedBy' | 'actedAt'>;

/**
 * `kb_dead_letters`: platform-wide, no tenant (a dead message may belong to
 * none). Written by the broker side (the keeper); read and acted on by
 * administrators only (the service checks `requireAdmin` before any of it).
 */
export class DeadLetterRepository {
  constructor(private readonly orm: Orm) {}

  async store(d: NewDeadLetter): Promise<void> {
    await this.orm.em.fork().execute(INSERT_DEAD_LETTER_SQL, [
      d.messageId,
      d.messageType,
      d.exchange,
      d.routingKey,
      d.queue,
      d.reason,
      d.detail,
      d.deathCount,
      JSON.stringify(d.headers),
      JSON.stringify(d.properties),
      d.body,
      d.bodyBytes,
      d.bodyTruncated,
    ]);
  }

  /** Admin only. Newest first, without bodies, headers and properties. */
  adminList(q: { status?: DeadLetter['status']; before?: number }, limit: number): Promise<DeadLetter[]> {
    const where: Record<string, unknown> = {};
    if (q.status) where.status = q.status;
    if (q.before !== undefined) where.id = { $lt: q.before };
    return this.orm.em.fork().find(DeadLetter, where, { orderBy: { id: 'desc' }, limit, exclude: ['body', 'headers', 'properties'] as never });
  }

  /** Admin only. */
  adminGet(id: number): Promise<DeadLetter | null> {
    return this.orm.em.fork().findOne(DeadLetter, { id });
  }

  /** Admin only (the metrics): pending now, all kept. */
  async adminCounts(): Promise<{ pending: number; total: number }> {
    const rows: { pending: string | number; total: string | number }[] = await this.orm.em.fork().execute(DEAD_LETTER_COUNTS_SQL);
    return { pending: Number(rows[0]?.pending ?? 0), total: Number(rows[0]?.total ?? 0) };
  }

  /** Admin only. pending -> `status` in one statement, by whom; the row as it is now (null: none) and whether this call moved it. */
  async adminClaim(id: number, status: 'replayed' | 'discarded', userId: string): Promise<{ row: DeadLetter | null; claimed: boolean }> {
    const em = this.orm.em.fork();
    const n = await em.nativeUpdate(DeadLetter, { id, status: 'pending' }, { status, actedBy: userId, actedAt: new Date() });
    return { row: await em.findOne(DeadLetter, { id }), claimed: n > 0 };
  }

  /** Admin only: a replay that failed to publish goes back to pending. */
  async adminUnclaim(id: number): Promise<void> {
    await this.orm.em.fork().nativeUpdate(DeadLetter, { id, status: 'replayed' }, { status: 'pending', actedBy: null, actedAt: null });
  }
}
