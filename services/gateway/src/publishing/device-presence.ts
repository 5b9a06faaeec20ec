import { envelope, messages, routingKeys, type DevicePresencePayload, type Publisher } from '@domaeka/broker';

/**
 * `device.presence` telemetry (issue 16): a phone's connection started to
 * count (its first validly signed packet: the bot page turns green, a
 * pending phone raises the owner's badge) or a counted connection ended.
 * Routed by tenant (`device.presence.<tenantId>`) so an API process could
 * bind only the tenants it has watchers for. Droppable like all telemetry:
 * the pages also read the devices over REST.
 */
export class DevicePresence {
  constructor(private readonly publisher: Publisher) {}

  publish(p: Omit<DevicePresencePayload, 'at'>): void {
    const payload: DevicePresencePayload = { ...p, at: Date.now() };
    this.publisher.publishTelemetry(messages.devicePresence, routingKeys.devicePresence(p.tenantId), envelope(messages.devicePresence, payload));
  }
}
