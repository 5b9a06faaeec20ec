import { envelope, messages, routingKeys, type ChangedPayload, type Publisher } from '@domaeka/broker';

/**
 * Tells the gateway and dispatcher caches that management data changed
 * (telemetry on `<prefix>.changes`, droppable: caches also expire on their own).
 */
export class ChangeNotifier {
  constructor(private readonly publisher: Publisher) {}

  changed(entity: ChangedPayload['entity'], tenantId: string, botId: string | null): void {
    const payload: ChangedPayload = { entity, tenantId, botId };
    this.publisher.publishTelemetry(messages.changed, routingKeys.changed, envelope(messages.changed, payload));
  }
}
