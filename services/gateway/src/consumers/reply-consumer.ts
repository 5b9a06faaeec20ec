import { assertReplyQueue, messages, type ConsumerChannels, type EnvelopeOf, type ReplyPayload, type SharedSubscription } from '@domaeka/broker';
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

/** The phone is gone: hold the reply (unacked) until the consumer stops and gives it back to the queue. */
class PhoneGoneError extends Error {
  readonly dependencyDown = true;
}

export interface ReplyConsumerDeps {
  /** The reply consumers' shared channels (a bounded number for all devices). */
  channels: ConsumerChannels;
  prefix: string;
  registry: DeviceRegistry;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * Consumes one device's reply queue (`<prefix>.reply.dev.<devices.id>`)
 * while that device has a live signed connection, and writes each reply to
 * it. The queue is declared on every (re)subscribe, which the gateway does
 * before publishing the device's first analyze event. Acks only after the
 * socket's write callback; a reply id already written to the device is
 * dropped (acked) instead. Nobody consumes the queue of a device that is
 * offline: its replies wait there (TTL 10 min) until it reconnects, to
 * this gateway or another.
 *
 * The consumer sits on a channel shared with other devices' consumers
 * (ConsumerChannels: one channel per device would cap a connection near
 * 2,000 phones). Stopping cancels it and nacks with requeue what it holds
 * (a reply waiting for a phone that went away, or prefetched), without
 * closing the channel the other devices use.
 */
export class DeviceReplyConsumer {
  private sub: SharedSubscription<ReplyPayload> | null = null;
  private starting: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: ReplyConsumerDeps,
    readonly deviceId: string,
    private readonly sink: ReplySink,
  ) {}

  async start(): Promise<void> {
    const route = `dev.${this.deviceId}`;
    const { channels, prefix } = this.deps;
    const starting = channels.subscribe<ReplyPayload>({
      queue: (ch) => assertReplyQueue(ch, prefix, route),
      def: messages.reply,
      handler: (env) => this.deliver(env),
    });
    this.starting = starting;
    this.sub = await starting;
    if (this.stopped) await this.sub.stop();
  }

  /** Cancels the consumer: held and prefetched replies go back to the queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Never stop a subscribe half-way: it would finish with a consumer nobody cancels.
    await this.starting?.catch(() => undefined);
    await this.sub?.stop();
  }

  private async deliver(env: EnvelopeOf<ReplyPayload>): Promise<void> {
    const { registry, metrics, logger } = this.deps;
    if (this.stopped) throw new PhoneGoneError('reply consumer stopped');
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
