import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { envelope, messages, routingKeys, type Publisher } from '@domaeka/broker';
import type { GatewayMetrics } from '../metrics.js';
import type { DeviceRegistry } from '../session/device-registry.js';

/** The API's admin metrics forget a gateway after three missed beats. */
export const GATEWAY_HEARTBEAT_MS = 2000;

/**
 * Tells the platform this gateway is alive and how many phones it holds
 * (`gateway.heartbeat` telemetry): services meet only on the broker, so
 * the API learns the connected phones from this, never from our HTTP port.
 */
export class GatewayHeartbeat {
  readonly gatewayId = `${hostname()}-${randomBytes(4).toString('hex')}`;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly publisher: Publisher,
    private readonly metrics: GatewayMetrics,
    private readonly registry: DeviceRegistry,
    /** The bridge's bound port, 0 before it listens. */
    private readonly bridgePort: () => number,
    private readonly intervalMs = GATEWAY_HEARTBEAT_MS,
  ) {}

  start(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** `final`: one last beat first (after the phones were closed: it says 0, so listeners need not wait it out). */
  stop(final = false): void {
    if (this.timer) clearInterval(this.timer);
    if (final && this.timer) this.beat();
    this.timer = null;
  }

  private beat(): void {
    const port = this.bridgePort();
    const payload = {
      gatewayId: this.gatewayId,
      startedAt: this.startedAt,
      connections: Math.max(0, this.metrics.snapshot().connections),
      devices: this.registry.size,
      intervalMs: this.intervalMs,
      ...(port > 0 ? { bridgePort: port } : {}),
    };
    this.publisher.publishTelemetry(messages.gatewayHeartbeat, routingKeys.gatewayHeartbeat, envelope(messages.gatewayHeartbeat, payload));
  }
}
