import { randomUUID } from 'node:crypto';
import { UnroutableError, type Publisher } from '@domaeka/broker';
import type { DeadLetterDetail, DeadLetterStatus, DeadLetterView } from '@domaeka/broker/contracts';
import { type Logger } from '@domaeka/core';
import type { DeadLetter } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { requireAdmin } from './tenant-admin-service.js';
import { DeadLetterRepository } from './dead-letter-repository.js';
import { bodyView, replayHeaders, replayTarget } from './dead-letter-rules.js';

export const DEAD_LETTERS_MAX_PAGE = 100;

/**
 * The administrator's view of `kb_dead_letters` (platform-wide, admin only):
 * list newest first, inspect one with its body decoded, replay it (published
 * again, confirmed and `mandatory`, to the exchange and routing key it was
 * first sent with, or straight to the queue it died in) or discard it.
 * A row is claimed (pending -> replayed) before publishing, so two clicks
 * never publish twice; a failed publish puts it back to pending.
 */
export class DeadLetterService {
  private readonly letters: DeadLetterRepository;

  constructor(
    orm: Orm,
    private readonly publisher: Publisher,
    private readonly logger: Logger,
  ) {
    this.letters = new DeadLetterRepository(orm);
  }

  async list(caller: Caller, q: { status?: DeadLetterStatus; limit?: number; before?: number }): Promise<{ items: DeadLetterView[]; nextBefore: number | null }> {
    requireAdmin(caller);
    const limit = Math.min(q.limit ?? 50, DEAD_LETTERS_MAX_PAGE);
    const rows = await this.letters.adminList(q, limit);
    const last = rows.at(-1);
    return { items: rows.map(view), nextBefore: rows.length === limit && last ? last.id : null };
  }

  async get(caller: Caller, id: number): Promise<DeadLetterDetail> {
    requireAdmin(caller);
    const row = await this.letters.adminGet(id);
    if (!row) throw apiErrors.notFound('dead letter');
    const shown = bodyView(row.body, row.bodyTruncated);
    return { ...view(row), headers: row.headers, body: shown.json, bodyText: shown.text };
  }

  /** Counts for the metrics (whose caller is checked there): pending now, all kept. */
  counts(): Promise<{ pending: number; total: number }> {
    return this.letters.adminCounts();
  }

  async replay(caller: Caller, id: number): Promise<DeadLetterView> {
    requireAdmin(caller);
    const row = await this.claim(caller, id, 'replayed');
    const target = replayTarget(row);
    try {
      if (row.bodyTruncated) throw apiErrors.deadLetterNotReplayable('본문이 잘려 저장되었습니다 / the body was too large and only its start was kept');
      if (!target) throw apiErrors.deadLetterNotReplayable('보낼 곳을 알 수 없습니다 / neither its exchange nor its queue is known');
      const p = row.properties as { type?: string | null; messageId?: string | null; correlationId?: string | null; replyTo?: string | null; persistent?: boolean };
      await this.publisher.publishRaw(target.exchange, target.routingKey, row.body, {
        messageId: p.messageId ?? row.messageId ?? randomUUID(),
        type: p.type ?? row.messageType ?? undefined,
        headers: replayHeaders(row.headers, row.id),
        correlationId: p.correlationId ?? undefined,
        replyTo: p.replyTo ?? undefined,
        persistent: p.persistent ?? true,
        mandatory: true,
      });
    } catch (err) {
      await this.unclaim(id);
      if (err instanceof UnroutableError) {
        throw apiErrors.deadLetterNotReplayable(`보낼 큐가 없습니다 / no queue is bound for ${target?.exchange || '(default)'} / ${target?.routingKey}`);
      }
      throw err;
    }
    this.logger.info({ deadLetterId: id, exchange: target.exchange, routingKey: target.routingKey, by: caller.userId }, 'dead letter replayed');
    return view(row);
  }

  async discard(caller: Caller, id: number): Promise<DeadLetterView> {
    requireAdmin(caller);
    const row = await this.claim(caller, id, 'discarded');
    this.logger.info({ deadLetterId: id, by: caller.userId }, 'dead letter discarded');
    return view(row);
  }

  /** pending -> `status` in one statement; anything else is 404 or 409. */
  private async claim(caller: Caller, id: number, status: 'replayed' | 'discarded'): Promise<DeadLetter> {
    const { row, claimed } = await this.letters.adminClaim(id, status, caller.userId);
    if (!row) throw apiErrors.notFound('dead letter');
    if (!claimed) throw apiErrors.deadLetterState(row.status);
    return row;
  }

  private async unclaim(id: number): Promise<void> {
    await this.letters
      .adminUnclaim(id)
      .catch((err: unknown) => this.logger.error({ err: String(err), deadLetterId: id }, 'could not put a dead letter back to pending'));
  }
}

function view(r: DeadLetter): DeadLetterView {
  return {
    id: r.id,
    receivedAt: r.receivedAt,
    status: r.status,
    reason: r.reason,
    detail: r.detail,
    deathCount: r.deathCount,
    messageId: r.messageId,
    messageType: r.messageType,
    exchange: r.exchange,
    routingKey: r.routingKey,
    queue: r.queue,
    bodyBytes: r.bodyBytes,
    bodyTruncated: r.bodyTruncated,
    actedBy: r.actedBy,
    actedAt: r.actedAt,
  };
}
