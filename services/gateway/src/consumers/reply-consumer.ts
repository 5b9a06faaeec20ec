import { Consumer, assertReplyQueue, messages, type BrokerConnection, type EnvelopeOf, type Publisher, type ReplyPayload } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import type { GatewayMetrics } from '../metrics.js';
import type { DeviceRegistry } from '../session/device-registry.js';

/** Where a device's replies go: its live, signed connection. */
export interface ReplySink {
  /** False once the connection is closing, closed or replaced. */
  readonly alive: boolean;
  /** Resolves when the socket took the bytes (its write callback). */
  writeReply(reply: EnvelopeOf<ReplyPayload>): Promise<void>;
}

/** The phone is gone: hold the reply (unacked) until the consumer stops and the broker requeues it. */
class PhoneGoneError extends Error {
  readonly dependencyDown = true;
}

export interface ReplyConsumerDeps {
  conn: BrokerConnection;
  publisher: Publisher;
  prefix: string;
  registry: DeviceRegistry;
  metrics: GatewayMetrics;
  logger: Logger;
  prefetch: number;
}

/**
 * Consumes one device's reply queue (`<prefix>.reply.dev.<devices.id>`)
 * while that device has a live signed connection, and writes each reply to
 * it. The queue is declared here on every (re)subscribe, which the gateway
 * does before publishing the device's first analyze event. Acks only after
 * the socket's write callback; a reply id already written to the device is
 * dropped (acked) instead. Nobody consumes the queue of a device that is
 * offline: its replies wait there (TTL 10 min) until it reconnects.
 */
export class DeviceReplyConsumer {
  private readonly consumer: Consumer<ReplyPayload>;
  private starting: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: ReplyConsumerDeps,
    readonly deviceId: string,
    private readonly sink: ReplySink,
  ) {
    const route = `dev.${deviceId}`;
    this.consumer = new Consumer<ReplyPayload>(deps.conn, deps.publisher, {
      queue: (ch) => assertReplyQueue(ch, deps.prefix, route),
      def: messages.reply,
      prefetch: deps.prefetch,
      handler: (env) => this.deliver(env),
    });
  }

  start(): Promise<void> {
    this.starting = this.consumer.start();
    return this.starting;
  }

  /** Closes the channel: held and prefetched replies go back to the queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Never stop a subscribe half-way: it would finish on a channel nobody closes.
    await this.starting?.catch(() => undefined);
    await this.consumer.stop();
  }

  private async deliver(env: EnvelopeOf<ReplyPayload>): Promise<void> {
    const { registry, metrics, logger } = this.deps;
    if (this.stopped) {
      // A re-subscribe raced with stop() (broker reconnect): close that channel too, the reply goes back.
      void this.consumer.stop();
      throw new PhoneGoneError('reply consumer stopped');
    }
    if (!this.sink.alive) throw new PhoneGoneError('phone connection gone');
    if (!registry.reserveReply(this.deviceId, env.id)) {
      metrics.replyDuplicate();
      logger.info({ deviceId: this.deviceId, replyId: env.id }, 'reply already written to this device; dropped');
      return;
    }
    try {
      await this.sink.writeReply(env);
    } catch (err) {
      registry.unreserveReply(this.deviceId, env.id);
      throw new PhoneGoneError(`write to phone failed: ${String(err)}`);
    }
    metrics.replyWritten();
  }
}
