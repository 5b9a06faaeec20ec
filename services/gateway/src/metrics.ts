import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@domaeka/core';

/** Plain numbers mirrored from the Prometheus metrics, for tests and logs. */
export interface GatewayStats {
  connections: number;
  /** Open connections without a validly signed packet yet (before the handshake included). */
  unsignedConnections: number;
  countedConnections: number;
  /** Connections refused or closed by a cap or the signing deadline, by reason. */
  refused: Record<string, number>;
  packets: Record<string, number>;
  rejected: Record<string, number>;
  published: number;
  publishFailed: number;
  publishHeld: number;
  repliesWritten: number;
  repliesDuplicate: number;
}

/** Every gateway metric; the hot path only increments. */
export class GatewayMetrics {
  readonly registry: Registry;
  private readonly s: GatewayStats = {
    connections: 0,
    unsignedConnections: 0,
    countedConnections: 0,
    refused: {},
    packets: {},
    rejected: {},
    published: 0,
    publishFailed: 0,
    publishHeld: 0,
    repliesWritten: 0,
    repliesDuplicate: 0,
  };
  private readonly connections: Gauge;
  private readonly counted: Gauge;
  private readonly unsigned: Gauge;
  private readonly refusedTotal: Counter<'reason'>;
  private readonly packetsTotal: Counter<'event'>;
  private readonly rejectedTotal: Counter<'reason'>;
  private readonly publishedTotal: Counter;
  private readonly publishFailedTotal: Counter<'reason'>;
  private readonly publishSeconds: Histogram;
  private readonly repliesTotal: Counter<'result'>;
  private readonly rtt: Histogram;

  constructor() {
    const registers = [(this.registry = createMetricsRegistry('gateway'))];
    this.connections = new Gauge({ name: 'gateway_connections', help: 'Open phone connections', registers });
    this.counted = new Gauge({ name: 'gateway_devices_connected', help: 'Connections that count for a device (signed)', registers });
    this.unsigned = new Gauge({ name: 'gateway_connections_unsigned', help: 'Open phone connections without a validly signed packet yet', registers });
    this.refusedTotal = new Counter({
      name: 'gateway_connections_refused_total',
      help: 'Connections refused or closed by a cap (cap_total, cap_ip, cap_ip_unsigned, cap_bot, cap_bot_evicted) or the signing deadline (sign_deadline)',
      labelNames: ['reason'],
      registers,
    });
    this.packetsTotal = new Counter({ name: 'gateway_packets_total', help: 'Packets received by event', labelNames: ['event'], registers });
    this.rejectedTotal = new Counter({ name: 'gateway_rejected_packets_total', help: 'Packets refused, by reason', labelNames: ['reason'], registers });
    this.publishedTotal = new Counter({ name: 'gateway_analyze_published_total', help: 'Analyze events confirmed by the broker', registers });
    this.publishFailedTotal = new Counter({ name: 'gateway_analyze_failed_total', help: 'Analyze events given up (logged)', labelNames: ['reason'], registers });
    this.publishSeconds = new Histogram({
      name: 'gateway_analyze_publish_seconds',
      help: 'Packet in to broker confirm',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2, 10],
      registers,
    });
    this.repliesTotal = new Counter({ name: 'gateway_replies_total', help: 'Replies by result', labelNames: ['result'], registers });
    this.rtt = new Histogram({ name: 'gateway_phone_rtt_ms', help: 'Ping round trip to phones', buckets: [5, 20, 50, 100, 250, 500, 1000, 5000], registers });
  }

  snapshot(): GatewayStats {
    return structuredClone(this.s);
  }

  connectionOpened(): void {
    this.s.connections++;
    this.connections.inc();
  }
  connectionClosed(): void {
    this.s.connections--;
    this.connections.dec();
  }
  /** A connection without a signed packet opened (+1), signed or closed (-1). */
  unsignedChanged(delta: 1 | -1): void {
    this.s.unsignedConnections += delta;
    this.unsigned.inc(delta);
  }
  connectionRefused(reason: string): void {
    this.s.refused[reason] = (this.s.refused[reason] ?? 0) + 1;
    this.refusedTotal.inc({ reason });
  }
  deviceCounted(delta: 1 | -1): void {
    this.s.countedConnections += delta;
    this.counted.inc(delta);
  }
  packet(event: string): void {
    // Bound the label set: phones may send any event name.
    const label = KNOWN_EVENTS.has(event) ? event : 'other';
    this.s.packets[label] = (this.s.packets[label] ?? 0) + 1;
    this.packetsTotal.inc({ event: label });
  }
  rejected(reason: string): void {
    this.s.rejected[reason] = (this.s.rejected[reason] ?? 0) + 1;
    this.rejectedTotal.inc({ reason });
  }
  published(seconds: number): void {
    this.s.published++;
    this.publishedTotal.inc();
    this.publishSeconds.observe(seconds);
  }
  publishHeld(): void {
    this.s.publishHeld++;
  }
  publishFailed(reason: string): void {
    this.s.publishFailed++;
    this.publishFailedTotal.inc({ reason });
  }
  replyWritten(): void {
    this.s.repliesWritten++;
    this.repliesTotal.inc({ result: 'written' });
  }
  replyDuplicate(): void {
    this.s.repliesDuplicate++;
    this.repliesTotal.inc({ result: 'duplicate' });
  }
  rttObserved(ms: number): void {
    this.rtt.observe(ms);
  }
}

const KNOWN_EVENTS = new Set(['handshake', 'message', 'analyze', 'pong', 'ping', 'error', 'status']);
