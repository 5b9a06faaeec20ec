import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunOutcome } from './sandbox/run-outcome.js';

/** Plain numbers of the same facts (tests and logs read these). */
export interface RunnerCounters {
  runs: number;
  /** Runs answered with an error code (tenant's or ours). */
  failed: number;
  /** Calls refused because their deadline had passed on arrival or while they waited in their tenant's line. */
  refusedExpired: number;
  /** Calls that waited in their tenant's line (over its cap, or the runner full). */
  parked: number;
  /** Calls answered KB_ERR_BUSY: their tenant's line was full. */
  refusedBusy: number;
  /** Runs that had to start a container because the pool was empty. */
  coldStarts: number;
}

export class RunnerMetrics {
  readonly counters: RunnerCounters = { runs: 0, failed: 0, refusedExpired: 0, parked: 0, refusedBusy: 0, coldStarts: 0 };
  private readonly runsTotal: Counter<'mode' | 'result'>;
  private readonly runSeconds: Histogram<'start'>;
  readonly poolReady: Gauge<'profile'>;
  readonly dedicated: Gauge;
  readonly refusedExpired: { inc(): void };
  readonly parked: { inc(): void };
  readonly refusedBusy: { inc(): void };
  /** Calls waiting in tenants' lines now (no tenant label: the heartbeat's `lanes` names them). */
  readonly waiting: Gauge;
  readonly reaped: Counter;
  private readonly storeRequests: Counter<'op' | 'result'>;
  private readonly storeDbSeconds: Histogram<'op'>;

  constructor(registry: Registry) {
    this.runsTotal = new Counter({
      name: 'kb_runner_runs_total',
      help: 'Sandbox runs, by mode and result (ok or the error code)',
      labelNames: ['mode', 'result'],
      registers: [registry],
    });
    this.runSeconds = new Histogram({
      name: 'kb_runner_run_seconds',
      help: 'Wall time of a run, by where its container came from: pool, cold (started for it), dedicated',
      labelNames: ['start'],
      buckets: [0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3, 6, 12, 30],
      registers: [registry],
    });
    this.poolReady = new Gauge({
      name: 'kb_runner_pool_ready',
      help: 'Ready pooled containers, by limit profile',
      labelNames: ['profile'],
      registers: [registry],
    });
    this.dedicated = new Gauge({
      name: 'kb_runner_dedicated_containers',
      help: 'Dedicated tenant containers held by this runner',
      registers: [registry],
    });
    const expired = new Counter({
      name: 'kb_runner_calls_expired_total',
      help: "Calls refused because their deadline had passed on arrival or while waiting in their tenant's line",
      registers: [registry],
    });
    this.refusedExpired = {
      inc: () => {
        this.counters.refusedExpired++;
        expired.inc();
      },
    };
    const parked = new Counter({
      name: 'kb_runner_calls_parked_total',
      help: "Calls that waited in their tenant's line (tenant at its cap, or the runner full); their message was acked at once",
      registers: [registry],
    });
    this.parked = {
      inc: () => {
        this.counters.parked++;
        parked.inc();
      },
    };
    const busy = new Counter({
      name: 'kb_runner_calls_refused_busy_total',
      help: "Calls answered KB_ERR_BUSY because their tenant's line was full",
      registers: [registry],
    });
    this.refusedBusy = {
      inc: () => {
        this.counters.refusedBusy++;
        busy.inc();
      },
    };
    this.waiting = new Gauge({
      name: 'kb_runner_calls_waiting',
      help: "Calls waiting in tenants' lines now",
      registers: [registry],
    });
    this.reaped = new Counter({
      name: 'kb_runner_orphans_reaped_total',
      help: 'Containers of dead runners removed at start',
      registers: [registry],
    });
    this.storeRequests = new Counter({
      name: 'kb_runner_store_requests_total',
      help: "Store requests of tenant code (data.sock), by op and result (ok or the error code)",
      labelNames: ['op', 'result'],
      registers: [registry],
    });
    this.storeDbSeconds = new Histogram({
      name: 'kb_runner_store_db_seconds',
      help: "The database's time for a store request, as the runner measured it (pool checkout, round trip, execution)",
      labelNames: ['op'],
      buckets: [0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: [registry],
    });
  }

  observeStore(op: string, result: string, dbMs: number | null): void {
    this.storeRequests.inc({ op, result });
    if (dbMs !== null) this.storeDbSeconds.observe({ op }, dbMs / 1000);
  }

  observeRun(mode: 'ephemeral' | 'dedicated', o: RunOutcome): void {
    this.counters.runs++;
    if (!o.ok) this.counters.failed++;
    if (o.pooled === false) this.counters.coldStarts++;
    this.runsTotal.inc({ mode, result: o.ok ? 'ok' : (o.error?.code ?? 'error') });
    const start = mode === 'dedicated' ? 'dedicated' : o.pooled === true ? 'pool' : o.pooled === false ? 'cold' : null;
    // null: refused before any container (deadline, busy)
    if (start) this.runSeconds.observe({ start }, o.durationMs / 1000);
  }
}
