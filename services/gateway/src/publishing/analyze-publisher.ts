import { performance } from 'node:perf_hooks';
import { UnroutableError, envelope, failureKindOf, messages, routingKeys, validationError, type AnalyzePayload, type EnvelopeOf, type Publisher } from '@domaeka/broker';
import type { Logger } from '@domaeka/core';
import type { GatewayMetrics } from '../metrics.js';

export type PublishOutcome = 'published' | 'failed';

/**
 * Publishes analyze events with confirms. While the broker is away the
 * event is held (the caller stops reading that phone's socket once too many
 * are held) and retried with the same envelope id, so a retry after an
 * unconfirmed attempt is deduplicated by the dispatcher. Nothing is dropped
 * silently: an event given up after `holdMs` is logged with its id.
 */
export class AnalyzePublisher {
  private readonly inflight = new Set<Promise<PublishOutcome>>();

  constructor(
    private readonly publisher: Publisher,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly holdMs: number,
  ) {}

  get pending(): number {
    return this.inflight.size;
  }

  /** Returns a schema complaint synchronously (nothing published), else the publish in flight. */
  publish(payload: AnalyzePayload, startedAt: number): { invalid: string } | { done: Promise<PublishOutcome> } {
    const env = envelope(messages.analyze, payload);
    const invalid = validationError(messages.analyze, env);
    if (invalid) return { invalid };
    const done = this.run(env, startedAt);
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
    return { done };
  }

  /** Waits (bounded) for held events before shutdown. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (this.inflight.size) this.logger.error({ held: this.inflight.size }, 'shutting down with analyze events not confirmed');
  }

  private async run(env: EnvelopeOf<AnalyzePayload>, startedAt: number): Promise<PublishOutcome> {
    const deadline = Date.now() + this.holdMs;
    const meta = { eventId: env.id, botId: env.payload.botId, deviceId: env.payload.deviceId, channelId: env.payload.channelId, logId: env.payload.logId };
    let backoff = 100;
    let held = false;
    for (;;) {
      const remaining = deadline - Date.now();
      try {
        await this.publisher.publish(messages.analyze, routingKeys.analyze, env, { waitReadyMs: Math.max(1, Math.min(remaining, 30_000)) });
        this.metrics.published((performance.now() - startedAt) / 1000);
        if (held) this.logger.info(meta, 'held analyze event published');
        return 'published';
      } catch (err) {
        const retryable = !(err instanceof UnroutableError) && failureKindOf(err) === 'dependency';
        if (!retryable || Date.now() >= deadline) {
          this.metrics.publishFailed(retryable ? 'broker_unavailable' : err instanceof UnroutableError ? 'unroutable' : 'error');
          this.logger.error({ ...meta, err: String(err) }, 'analyze event NOT published; given up');
          return 'failed';
        }
        if (!held) {
          held = true;
          this.metrics.publishHeld();
          this.logger.warn({ ...meta, err: String(err) }, 'broker unavailable; holding analyze event');
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }
}
