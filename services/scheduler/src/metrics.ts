import { Counter, Histogram, type Registry } from 'prom-client';

export class SchedulerMetrics {
  readonly fires: Counter<'outcome'>;
  readonly lag: Histogram;
  readonly tickErrors: Counter;

  constructor(registry: Registry) {
    this.fires = new Counter({
      name: 'kb_scheduler_fires_total',
      help: 'Schedule periods by outcome: fired (published), republished (claimer died before its confirm), skipped (missed-fire policy)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.lag = new Histogram({
      name: 'kb_scheduler_fire_lag_seconds',
      help: 'From a period to its fire being confirmed published',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 600],
      registers: [registry],
    });
    this.tickErrors = new Counter({ name: 'kb_scheduler_tick_errors_total', help: 'Ticks that failed (database or broker away)', registers: [registry] });
  }
}
