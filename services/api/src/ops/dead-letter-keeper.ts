import type { Channel, ConsumeMessage } from 'amqplib';
import { names, type BrokerConnection } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import type { Orm } from '../db/em.js';
import { deathOf, keptBody, safeHeaders } from './dead-letter-rules.js';

const INSERT_SQL = `
  insert into kb_dead_letters
    (message_id, message_type, exchange, routing_key, queue, reason, detail, death_count, headers, properties, body, body_bytes, body_truncated)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?)
  on conflict (message_id) where status = 'pending' do nothing`;

const PREFETCH = 20;
const MAX_BACKOFF_MS = 5000;

/**
 * Moves every message of `<prefix>.dead` into `kb_dead_letters`, where an
 * administrator sees, replays or discards it. A message is acked only
 * after its row is committed (at-least-once); a redelivered one whose row
 * is still pending is not stored twice (unique pending message id). While
 * the database is down the message is held and retried, never dropped.
 * Its own channel (not the schema-checking Consumer: a dead letter can be
 * anything, that is often why it died), re-subscribed after a reconnect.
 */
export class DeadLetterKeeper {
  private ch: Channel | null = null;
  private stopped = false;
  private readonly queue: string;
  private readonly hook = () => this.subscribe();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly conn: BrokerConnection,
    prefix: string,
    private readonly orm: Orm,
    private readonly logger: Logger,
  ) {
    this.queue = names(prefix).deadQueue;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.conn.onReady(this.hook);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.conn.offReady(this.hook);
    const ch = this.ch;
    this.ch = null;
    // Unacked messages go back to the queue when the channel closes; rows already written dedupe a redelivery.
    if (ch) await ch.close().catch(() => undefined);
    await Promise.all([...this.inflight]);
  }

  private async subscribe(): Promise<void> {
    if (this.stopped) return;
    const ch = await this.conn.createChannel();
    if (this.stopped) {
      await ch.close().catch(() => undefined);
      return;
    }
    ch.on('error', (err) => this.logger.warn({ err: String(err), queue: this.queue }, 'dead-letter channel error'));
    ch.on('close', () => {
      if (this.ch === ch) this.ch = null;
    });
    await ch.prefetch(PREFETCH);
    this.ch = ch;
    await ch.consume(this.queue, (msg) => {
      if (!msg) {
        // Cancelled by the broker (queue deleted): subscribe again on a fresh channel.
        if (this.ch === ch && !this.stopped) {
          this.ch = null;
          void ch.close().catch(() => undefined);
          setTimeout(() => void this.subscribe().catch((err) => this.logger.warn({ err: String(err) }, 'dead-letter resubscribe failed')), 500).unref();
        }
        return;
      }
      const p = this.keep(ch, msg).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    });
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
    const params = [
      typeof p.messageId === 'string' ? p.messageId : null,
      typeof p.type === 'string' ? p.type : null,
      death.exchange,
      death.routingKey,
      death.queue,
      death.reason,
      death.detail,
      death.count,
      JSON.stringify(safeHeaders(headers)),
      JSON.stringify(properties),
      body.body,
      body.bytes,
      body.truncated,
    ];
    let backoff = 200;
    for (;;) {
      try {
        await this.orm.em.fork().execute(INSERT_SQL, params);
        break;
      } catch (err) {
        if (this.stopped || this.ch !== ch) return; // the broker redelivers it
        this.logger.warn({ err: String(err), retryInMs: backoff }, 'storing a dead letter failed; holding it');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (this.stopped || this.ch !== ch) return;
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
