import { messages, routingKeys, type Consumer, type BrokerConnection, type Publisher, type RunnerHeartbeatPayload } from '@domaeka/broker';
import type { LaneView } from '@domaeka/broker/contracts';
import { watchHeartbeats } from './heartbeat-watch.js';

interface Seen {
  lanes: Map<string, { running: number; waiting: number }>;
  at: number;
}

/** Three missed beats (runners beat every ~1 s), as the RPC client's registry. */
const RUNNER_EXPIRY_MS = 3000;
const MINUTE_MS = 60_000;

/**
 * The runners' per-tenant lines (`runner.heartbeat` `lanes`: running,
 * waiting in the tenant's own line, refused as busy since the last beat),
 * for the ops dashboard's "who is throttled". The RPC client's registry
 * keeps only what placing calls needs, so this watch reads the beats on its
 * own exclusive auto-delete queue (like GatewayWatch). Refusals are summed
 * per tenant and minute over `windowMin` in this process: a process
 * started within the window has seen only part of it.
 */
export class RunnerLaneWatch {
  private readonly seen = new Map<string, Seen>();
  /** tenantId -> runnerId -> minute (epoch ms) -> refused. */
  private readonly refused = new Map<string, Map<string, Map<number, number>>>();
  private readonly consumer: Consumer<RunnerHeartbeatPayload>;

  constructor(
    conn: BrokerConnection,
    publisher: Publisher,
    prefix: string,
    private readonly windowMin: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.consumer = watchHeartbeats<RunnerHeartbeatPayload>(conn, publisher, prefix, messages.runnerHeartbeat, routingKeys.runnerHeartbeat, (b) => this.beat(b));
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  beat(h: RunnerHeartbeatPayload): void {
    const now = this.clock();
    const minute = now - (now % MINUTE_MS);
    const lanes = new Map<string, { running: number; waiting: number }>();
    for (const l of h.lanes ?? []) {
      lanes.set(l.tenantId, { running: l.running, waiting: l.waiting });
      if (l.refused > 0) {
        const byRunner = this.refused.get(l.tenantId) ?? new Map<string, Map<number, number>>();
        const byMinute = byRunner.get(h.runnerId) ?? new Map<number, number>();
        byMinute.set(minute, (byMinute.get(minute) ?? 0) + l.refused);
        byRunner.set(h.runnerId, byMinute);
        this.refused.set(l.tenantId, byRunner);
      }
    }
    this.seen.set(h.runnerId, { lanes, at: now });
  }

  /** Per tenant: its lines at live runners now, with each runner's refusals over the window. */
  lanes(): Map<string, LaneView[]> {
    const now = this.clock();
    const since = now - (now % MINUTE_MS) - (this.windowMin - 1) * MINUTE_MS;
    const out = new Map<string, LaneView[]>();
    const add = (tenantId: string, v: LaneView) => out.set(tenantId, [...(out.get(tenantId) ?? []), v]);
    for (const [runnerId, s] of this.seen) if (now - s.at > RUNNER_EXPIRY_MS) this.seen.delete(runnerId);
    const refusedOf = (tenantId: string, runnerId: string) => {
      const byMinute = this.refused.get(tenantId)?.get(runnerId);
      let n = 0;
      for (const [m, c] of byMinute ?? []) {
        if (m >= since) n += c;
        else byMinute!.delete(m); // out of the window: forgotten
      }
      return n;
    };
    for (const [runnerId, s] of this.seen) {
      for (const [tenantId, l] of s.lanes) add(tenantId, { runnerId, ...l, refused: refusedOf(tenantId, runnerId) });
    }
    // Refusals of runners whose line is empty now (or that stopped): still part of the window.
    for (const [tenantId, byRunner] of this.refused) {
      for (const runnerId of byRunner.keys()) {
        if (this.seen.get(runnerId)?.lanes.has(tenantId)) continue;
        const n = refusedOf(tenantId, runnerId);
        if (n > 0) add(tenantId, { runnerId, running: 0, waiting: 0, refused: n });
        else byRunner.delete(runnerId);
      }
      if (byRunner.size === 0) this.refused.delete(tenantId);
    }
    return out;
  }
}
