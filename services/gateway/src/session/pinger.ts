import { performance } from 'node:perf_hooks';
import { encodePing, formatServerTimestamp } from '../protocol/packet-codec.js';
import type { ConnectionDeps } from './connection.js';
import type { PhoneOutput } from './phone-output.js';
import type { PhoneSession } from './phone-session.js';

/**
 * The `ping`s of one open connection (bridge-v3.md: every 30 s) and the
 * round-trip time of the `pong` that echoes one's `server_timestamp`.
 */
export class Pinger {
  /** server_timestamp of recent pings -> when sent (for RTT). */
  private readonly sent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly session: PhoneSession,
    private readonly out: PhoneOutput,
    private readonly deps: Pick<ConnectionDeps, 'clock' | 'limits' | 'metrics'>,
  ) {}

  /** Pings now, then every `pingIntervalMs` until `stop`. */
  start(): void {
    this.ping();
    this.timer = setInterval(() => this.ping(), this.deps.limits.pingIntervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Milliseconds since the ping whose `server_timestamp` the pong echoed (observed in the metrics), or null when it echoed none of ours. */
  rttOf(echoed: unknown): number | null {
    const sentAt = typeof echoed === 'string' ? this.sent.get(echoed) : undefined;
    if (sentAt === undefined) return null;
    const rtt = Math.max(0, Math.round(performance.now() - sentAt));
    this.sent.delete(echoed as string);
    this.deps.metrics.rttObserved(rtt);
    return rtt;
  }

  private ping(): void {
    const ts = formatServerTimestamp(this.deps.clock.now());
    this.sent.set(ts, performance.now());
    if (this.sent.size > 4) this.sent.delete(this.sent.keys().next().value!);
    this.out.send(encodePing(this.session.bot!.name, ts));
  }
}
