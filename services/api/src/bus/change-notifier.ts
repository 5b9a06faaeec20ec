import { envelope, messages, routingKeys, type AccessRevokedPayload, type ChangedPayload, type Publisher } from '@domaeka/broker';

/**
 * Tells the gateway and dispatcher caches that management data changed
 * (telemetry on `<prefix>.changes`, droppable: caches also expire on their own),
 * and every API process that credentials ended (`access.revoked`): the live
 * sockets they opened are re-authenticated or their tails ended
 * (`src/live/socket-guard.ts`; droppable too: each process also re-checks
 * its sockets on every join and periodically).
 */
export class ChangeNotifier {
  constructor(private readonly publisher: Publisher) {}

  changed(entity: ChangedPayload['entity'], tenantId: string, botId: string | null): void {
    const payload: ChangedPayload = { entity, tenantId, botId };
    this.publisher.publishTelemetry(messages.changed, routingKeys.changed, envelope(messages.changed, payload));
  }

  revoked(reason: AccessRevokedPayload['reason'], tenantId: string, who: { userId?: string; botId?: string }): void {
    const payload: AccessRevokedPayload = { reason, tenantId, userId: who.userId ?? null, botId: who.botId ?? null };
    this.publisher.publishTelemetry(messages.accessRevoked, routingKeys.accessRevoked, envelope(messages.accessRevoked, payload));
  }
}
