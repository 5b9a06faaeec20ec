import type { Channel, ConsumeMessage } from 'amqplib';
import { v7 as uuidv7 } from 'uuid';
import type { BrokerConnection } from './connection.js';
import { names } from './topology.js';
import type { MessageDef } from './catalog.js';
import type { EnvelopeOf } from './schemas/envelope.js';

export class UnroutableError extends Error {
  readonly code = 'KB_ERR_UNROUTABLE';
  constructor(exchange: string, routingKey: string) {
    super(`no queue bound for ${exchange} / ${routingKey}`);
  }
}

export class BrokerUnavailableError extends Error {
  readonly code = 'KB_ERR_BROKER_UNAVAILABLE';
  readonly dependencyDown = true;
  constructor(
    message: string,
    /** The message may have reached the broker (the connection died before its confirm): a caller must not assume it was not delivered. */
    readonly maybeSent = false,
  ) {
    super(message);
  }
}

export interface PublishOptions {
  /** Per-message TTL (ms): a message not consumed by then is dropped or dead-lettered. */
  expirationMs?: number;
  headers?: Record<string, unknown>;
  /** How long to wait for the broker to come back before giving up (durable only). */
  waitReadyMs?: number;
  mandatory?: boolean;
  replyTo?: string;
  correlationId?: string;
  /** Durable messages are persistent (the default); RPC messages are not. */
  persistent?: boolean;
}

export function envelope<P>(def: MessageDef, payload: P, id: string = uuidv7()): EnvelopeOf<P> {
  return { id, type: def.type, version: def.version, occurredAt: new Date().toISOString(), payload };
}

/**
 * Publishes through the connection's confirm channel. Durable messages are
 * persistent, `mandatory` and resolve only once the broker confirmed them;
 * an unroutable message rejects with UnroutableError. Telemetry is
 * fire-and-forget and silently dropped while the broker is away.
 */
export class Publisher {
  private readonly returned = new Set<string>();
  private readonly n: ReturnType<typeof names>;
  private telemetry: Channel | null = null;
  private openingTelemetry = false;

  constructor(
    private readonly conn: BrokerConnection,
    prefix: string,
  ) {
    this.n = names(prefix);
    conn.on('return', (msg: ConsumeMessage) => {
      const id = msg.properties.messageId as string | undefined;
      if (id) this.returned.add(id);
    });
    conn.on('down', () => (this.telemetry = null));
  }

  exchangeOf(def: MessageDef): string {
    return def.exchange === '' ? '' : this.n.exchange(def.exchange);
  }

  /**
   * Publishes an RPC message straight to a queue (default exchange):
   * confirmed, not persistent. With `mandatory` (the default) a queue that
   * does not exist (a dead runner) rejects with UnroutableError at once.
   */
  async publishRpc<P>(def: MessageDef, queue: string, env: EnvelopeOf<P>, opts: PublishOptions = {}): Promise<void> {
    await this.publish(def, queue, env, { ...opts, persistent: false });
  }

  /** Publishes a durable message (persistent, confirmed, mandatory). */
  async publish<P>(def: MessageDef, routingKey: string, env: EnvelopeOf<P>, opts: PublishOptions = {}): Promise<void> {
    await this.publishRaw(this.exchangeOf(def), routingKey, Buffer.from(JSON.stringify(env)), {
      ...opts,
      messageId: env.id,
      type: `${env.type}.v${env.version}`,
    });
  }

  async publishRaw(
    exchange: string,
    routingKey: string,
    body: Buffer,
    opts: PublishOptions & { messageId: string; type?: string },
  ): Promise<void> {
    let ch = this.conn.confirmChannel();
    if (!ch) {
      await this.conn.waitReady(opts.waitReadyMs ?? 10_000).catch(() => {
        throw new BrokerUnavailableError('broker unavailable');
      });
      ch = this.conn.confirmChannel();
      if (!ch) throw new BrokerUnavailableError('broker unavailable');
    }
    const mandatory = opts.mandatory ?? true;
    const messageId = opts.messageId;
    await new Promise<void>((resolve, reject) => {
      const onDown = () => reject(new BrokerUnavailableError('broker connection lost before confirm', true));
      this.conn.once('down', onDown);
      try {
        ch.publish(
          exchange,
          routingKey,
          body,
          {
            persistent: opts.persistent ?? true,
            mandatory,
            messageId,
            type: opts.type,
            contentType: 'application/json',
            headers: opts.headers,
            expiration: opts.expirationMs !== undefined ? String(Math.max(0, Math.round(opts.expirationMs))) : undefined,
            replyTo: opts.replyTo,
            correlationId: opts.correlationId,
          },
          (err) => {
            this.conn.off('down', onDown);
            if (err) {
              void this.conn.renewConfirmChannel(ch);
              return reject(new BrokerUnavailableError(`broker refused the message: ${String(err)}`));
            }
            if (mandatory && this.returned.delete(messageId)) return reject(new UnroutableError(exchange, routingKey));
            resolve();
          },
        );
      } catch (err) {
        this.conn.off('down', onDown);
        reject(new BrokerUnavailableError(`publish failed: ${String(err)}`));
      }
    });
  }

  /**
   * Fire-and-forget, non-persistent; dropped while the broker is away. Sent
   * on a channel of its own without publisher confirms: a confirm is work
   * for the broker and for us that nobody waits for (issue 19: two of the
   * four confirms per room message were telemetry's). Until that channel is
   * open (the first message after each connect), the confirm channel
   * carries it.
   */
  publishTelemetry<P>(def: MessageDef, routingKey: string, env: EnvelopeOf<P>): void {
    const ch = this.telemetryChannel() ?? this.conn.confirmChannel();
    if (!ch) return;
    try {
      ch.publish(this.exchangeOf(def), routingKey, Buffer.from(JSON.stringify(env)), {
        persistent: false,
        messageId: env.id,
        type: `${env.type}.v${env.version}`,
        contentType: 'application/json',
      });
    } catch {
      /* telemetry is droppable */
    }
  }

  /** The open telemetry channel, or null while one is being opened (it is, from the first call after each connect). */
  private telemetryChannel(): Channel | null {
    if (this.telemetry || this.openingTelemetry || !this.conn.ready) return this.telemetry;
    this.openingTelemetry = true;
    this.conn
      .createChannel()
      .then((ch) => {
        ch.on('error', () => undefined);
        ch.on('close', () => {
          if (this.telemetry === ch) this.telemetry = null;
        });
        this.telemetry = ch;
      })
      .catch(() => undefined)
      .finally(() => (this.openingTelemetry = false));
    return null;
  }

  /** Republishes a refused message to the dead-letter exchange with the reason (confirmed). */
  async deadLetter(msg: ConsumeMessage, queue: string, reason: string): Promise<void> {
    await this.publishRaw(this.n.dlx, '', msg.content, {
      messageId: (msg.properties.messageId as string | undefined) ?? uuidv7(),
      type: msg.properties.type as string | undefined,
      mandatory: false,
      headers: {
        ...(msg.properties.headers ?? {}),
        'x-kb-reason': reason.slice(0, 1000),
        'x-kb-queue': queue,
        'x-kb-routing-key': msg.fields.routingKey,
      },
    });
  }
}
