import { names, type RunnerClient } from '@domaeka/broker';
import type { PlatformMetrics, RunnerView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { Orm } from '../db/em.js';
import { AdminRepository } from './admin-repository.js';
import { requireAdmin } from './tenant-admin-service.js';
import type { DeadLetterService } from './dead-letter-service.js';
import type { GatewayWatch } from './gateway-watch.js';
import type { QueueInspector } from './queue-inspector.js';
import { SystemSampler } from './system-stats.js';

/** Reply queues looked at, at most (one passive declare each; a big fleet wants the management API). */
export const MAX_REPLY_QUEUES = 500;

/**
 * One snapshot of the platform for administrators: containers from the
 * runners' heartbeats, calls and response times from `kb_api_logs`, queue
 * depths by passive declares, dead letters, connected phones from the
 * gateways' heartbeats, and this machine's CPU and memory. Runner call
 * queues are exclusive to their runner (another connection cannot inspect
 * them): a runner's load is its `busy` / `capacity` instead.
 */
export class MetricsService {
  private readonly system = new SystemSampler();
  private readonly platform: AdminRepository;

  constructor(
    orm: Orm,
    private readonly prefix: string,
    private readonly runners: RunnerClient,
    private readonly gateways: GatewayWatch,
    private readonly queues: QueueInspector,
    private readonly deadLetters: DeadLetterService,
  ) {
    this.platform = new AdminRepository(orm);
  }

  async get(caller: Caller): Promise<PlatformMetrics> {
    requireAdmin(caller);
    return this.snapshot();
  }

  /** Unchecked: for the admin feed, whose room only administrators can join. */
  async snapshot(): Promise<PlatformMetrics> {
    const [c, topRows, routes, dead] = await Promise.all([
      this.platform.callsLastHour(),
      this.platform.topCommandsLastHour(),
      this.platform.replyRoutes(MAX_REPLY_QUEUES),
      this.deadLetters.counts(),
    ]);
    const n = names(this.prefix);
    const queueNames = [n.dispatchQueue, n.ingressQueue, n.deadQueue, ...routes.map((route) => n.replyQueue(route))];
    const queues = await this.queues.inspect(queueNames);

    const byRunner: RunnerView[] = this.runners.registry.candidates().map((r) => ({
      runnerId: r.runnerId,
      capacity: r.capacity,
      busy: r.busy,
      containers: r.containers,
      dedicatedTenants: r.dedicatedTenants ? [...r.dedicatedTenants] : null,
    }));
    const sum = (k: 'pool' | 'ephemeral' | 'dedicated') => byRunner.reduce((s, r) => s + (r.containers?.[k] ?? 0), 0);
    const gws = this.gateways.live();
    return {
      at: new Date().toISOString(),
      containers: { pool: sum('pool'), ephemeral: sum('ephemeral'), dedicated: sum('dedicated'), byRunner },
      calls: { perMinute: Number(c?.per_minute ?? 0), lastHour: Number(c?.last_hour ?? 0) },
      responseMs: { avg: round(c?.avg_ms), p95: round(c?.p95_ms) },
      topCommands: topRows.map((r) => ({ commandId: Number(r.command_id), command: r.command, tenantId: r.tenant_id, tenantName: r.tenant_name, calls: Number(r.calls) })),
      queues,
      deadLetters: dead,
      phones: { connected: gws.reduce((s, g) => s + g.devices, 0), connections: gws.reduce((s, g) => s + g.connections, 0), gateways: gws.length },
      system: this.system.sample(),
    };
  }
}

function round(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const x = Number(v);
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}
