import {
  UnroutableError,
  envelope,
  messages,
  routingKeys,
  type AnalyzePayload,
  type DispatchDonePayload,
  type Publisher,
  type ReplyPayload,
} from '@domaeka/broker';
import type { Logger } from 'pino';
import type { DispatcherMetrics } from '../metrics.js';

/** Sends replies to rooms (durable, confirmed) and tells listeners an event is finished (telemetry). */
export class ReplyPublisher {
  constructor(
    private readonly publisher: Publisher,
    private readonly metrics: DispatcherMetrics,
    private readonly logger: Logger,
  ) {}

  /**
   * Publishes the reply on the event's route with the event id as its own
   * id, so a receiver drops a reply it already wrote. Resolves false when
   * no queue is bound for the route (nobody will ever read it).
   */
  async reply(route: string, eventId: string, payload: ReplyPayload): Promise<boolean> {
    try {
      await this.publisher.publish(messages.reply, route, envelope(messages.reply, payload, eventId));
      return true;
    } catch (err) {
      if (!(err instanceof UnroutableError)) throw err;
      this.metrics.undelivered();
      this.logger.warn({ eventId, route, botId: payload.botId, channelId: payload.channelId }, 'reply undelivered: no queue for its route');
      return false;
    }
  }

  /**
   * The event is finished, with the room call it made if any (`call`, for
   * the tenant's live tail): one telemetry message per event, dropped when
   * nobody listens.
   */
  done(source: AnalyzePayload['source'] | 'schedule', payload: DispatchDonePayload): void {
    this.publisher.publishTelemetry(messages.dispatchDone, routingKeys.dispatchDone(source, payload.tenantId), envelope(messages.dispatchDone, payload));
  }
}
