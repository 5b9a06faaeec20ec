import type { Channel, ConsumeMessage } from 'amqplib';
import { names, type BrokerConnection } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import { QueueSubscription } from '../bus/subscription.js';
import type { Orm } from '../db/em.js';
import { DeadLetterRepository, type NewDeadLetter } from './dead-letter-repository.js';
import { deathOf, keptBody, safeHeaders } from './dead-letter-rules.js';

const PREFETCH = 20;
const MAX_BACKOFF_MS = 5000;

/**
 * Moves every message of `<prefix>.dead` into `kb_dead_letters`, where an
 * administrator sees, replays or discards it. A message is acked only
 * after its row is committed (at-least-once); a redelivered one whose row
 * is still pending is not stored twice (unique pending message id). While
 * the database is down the message is held and retried, never dropped.
 * Read raw (`QueueSubscription`), not by the schema-checking Consumer: a
 * dead letter can be anything, that is often why it died.
 */
export class DeadLetterKeeper {
  private readonly subscription: QueueSubscription;
  private readonly letters: DeadLetterRepository;

  constructor(
    conn: BrokerConnection,
    prefix: string,
    orm: Orm,
    private readonly logger: Logger,
  ) {
    this.letters = new DeadLetterRepository(orm);
    this.subscription = new QueueSubscription(conn, {
      queue: names(prefix).deadQueue,
      prefetch: PREFETCH,
      name: 'dead-letter',
      logger,
      handle: (msg, ch) => this.keep(ch, msg),
    });
  }

  start(): Promise<void> {
    return this.subscription.start();
  }

  /** Unacked messages go back to the queue; rows already written dedupe a redelivery. */
  stop(): Promise<void> {
    return this.subscription.stop();
  }

  private async keep(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const death = deathOf(headers);
    const body = keptBody(msg.content);
    const p = msg.properties;
    const properties = {
      contentType: p.contentType ?? null,
      contentEncoding: p.contentEncoding ?? null,
      type: p.type ?? null,
      messageId: p.messageId ?? null,
      correlationId: p.correlationId ?? null,
      replyTo: p.replyTo ?? null,
      persistent: p.deliveryMode === 2,
    };
    const letter: NewDeadLetter = {
      messageId: typeof p.messageId === 'string' ? p.messageId : null,
      messageType: typeof p.type === 'string' ? p.type : null,
      exchange: death.exchange,
      routingKey: death.routingKey,
      queue: death.queue,
      reason: death.reason,
      detail: death.detail,
      deathCount: death.count,
      headers: safeHeaders(headers),
      properties,
      body: body.body,
      bodyBytes: body.bytes,
      bodyTruncated: body.truncated,
    };
    let backoff = 200;
    for (;;) {
      try {
        await this.letters.store(letter);
        break;
      } catch (err) {
        if (!this.subscription.holds(ch)) return; // the broker redelivers it
        this.logger.warn({ err: String(err), retryInMs: backoff }, 'storing a dead letter failed; holding it');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (!this.subscription.holds(ch)) return;
      }
    }
    this.logger.info({ messageId: p.messageId, reason: death.reason, queue: death.queue }, 'dead letter kept');
    try {
      ch.ack(msg);
    } catch {
      /* channel gone: redelivered, and the pending row dedupes it */
    }
  }
}
