import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

/**
 * Telemetry: a gateway is alive and holds these phones (every ~2 s, routing
 * key `gateway.heartbeat`). The API's admin metrics count connected phones
 * from it; a gateway not heard from for three beats is left out.
 */
export const GatewayHeartbeatPayload = Type.Object(
  {
    gatewayId: Type.String({ minLength: 1, maxLength: 100 }),
    /** Epoch ms; a new value for the same id means the gateway restarted. */
    startedAt: Type.Integer({ minimum: 0 }),
    /** Open TCP connections (signed or not). */
    connections: Type.Integer({ minimum: 0 }),
    /** Devices with a live signed connection (each takes its replies). */
    devices: Type.Integer({ minimum: 0 }),
    /** How often it beats (ms), so a listener knows when it is late. */
    intervalMs: Type.Integer({ minimum: 1 }),
    /** The TCP port phones connect to, as bound (absent until it listens): the web app tells the shop owner. */
    bridgePort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: false },
);
export type GatewayHeartbeatPayload = Static<typeof GatewayHeartbeatPayload>;
export const GatewayHeartbeat = Envelope('gateway.heartbeat', 1, GatewayHeartbeatPayload);
export type GatewayHeartbeat = Static<typeof GatewayHeartbeat>;

/**
 * Telemetry: a phone's connection started to count (its first validly
 * signed packet: `online` true, with the device's approval status then) or
 * a counted connection ended (`online` false). Routing key
 * `device.presence.<tenantId>`. The API turns it into the `device:presence`
 * socket.io event of the tenant's pages (the bot page's "폰 기다리는 중…",
 * the top menu's pending badge).
 */
export const DevicePresencePayload = Type.Object(
  {
    tenantId: Type.String({ format: 'uuid' }),
    botId: Type.String({ format: 'uuid' }),
    /** devices.id */
    deviceId: Type.String({ format: 'uuid' }),
    /** The phone's own deviceID (what the owner sees). */
    deviceKey: Type.String({ maxLength: 200 }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('blocked')]),
    online: Type.Boolean(),
    /** Epoch ms at the gateway. */
    at: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type DevicePresencePayload = Static<typeof DevicePresencePayload>;
export const DevicePresence = Envelope('device.presence', 1, DevicePresencePayload);
export type DevicePresence = Static<typeof DevicePresence>;
