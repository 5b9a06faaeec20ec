import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type EventOutcome = 'replied' | 'no_match' | 'ignored' | 'duplicate';

/** Plain numbers of the same facts as the Prometheus series (tests and logs read these). */
export interface DispatchCounters {
  replied: number;
  noMatch: number;
  ignored: number;
  duplicate: number;
  /** Redeliveries answered from a stored reply, without calling the target again. */
  republished: number;
  /** Replies no queue was bound for. */
  undelivered: number;
  unapprovedDevice: number;
  unapprovedRoom: number;
  targetCalls: number;
  targetErrors: number;
  /** Room calls refused because the tenant used up its plan's daily runs. */
  quotaExceeded: number;
  /** Room calls answered KB_ERR_BUSY: their tenant already had its plan's room_calls_in_flight in hand. */
  busy: number;
  /** Room calls answered with an error because their result could not be stored (never called again). */
  unstorable: number;
  /** Retries answered KB_ERR_INTERNAL instead of calling the target again (MAX_ATTEMPTS). */
  givenUp: number;
}

export class DispatcherMetrics {
  readonly counters: DispatchCounters = {
    replied: 0,
    noMatch: 0,
    ignored: 0,
    duplicate: 0,
    republished: 0,
    undelivered: 0,
    unapprovedDevice: 0,
    unapprovedRoom: 0,
    targetCalls: 0,
    targetErrors: 0,
    quotaExceeded: 0,
    busy: 0,
    unstorable: 0,
    givenUp: 0,
  };
  private readonly events: Counter<'outcome'>;
  private readonly unapprovedTotal: Counter<'kind'>;
  private readonly targetSeconds: Histogram<'target' | 'result'>;
  private readonly undeliveredTotal: Counter;
  private readonly republishedTotal: Counter;
  private readonly overheadSeconds: Histogram;
  private readonly stageSeconds: Histogram<'stage'>;
  private readonly quotaExceededTotal: Counter;
  private readonly busyTotal: Counter;
  private readonly unstorableTotal: Counter<'kind'>;
  private readonly givenUpTotal: Counter;
  readonly dependencyDown: Gauge;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'kb_dispatcher_events_total',
      help: 'Analyze events finished, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.unapprovedTotal = new Counter({
      name: 'kb_dispatcher_unapproved_total',
      help: 'Commands not answered because the device or room is not approved',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.targetSeconds = new Histogram({
      name: 'kb_dispatcher_target_duration_seconds',
      help: 'Time spent calling command targets, by target type and result code',
      labelNames: ['target', 'result'],
      buckets: [0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.undeliveredTotal = new Counter({
      name: 'kb_dispatcher_replies_undelivered_total',
      help: 'Replies no reply queue was bound for',
      registers: [registry],
    });
    this.republishedTotal = new Counter({
      name: 'kb_dispatcher_replies_republished_total',
      help: 'Redelivered events answered from the stored reply',
      registers: [registry],
    });
    this.overheadSeconds = new Histogram({
      name: 'kb_dispatcher_overhead_seconds',
      help: 'Time an event spends in the dispatcher, minus the target call (cache, database, publishing)',
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
    this.stageSeconds = new Histogram({
      name: 'kb_dispatcher_stage_seconds',
      help: 'Time of each database or broker step of a room call: claim (outbox row + quota), store (reply + log row), reply (publish + confirm)',
      labelNames: ['stage'],
      buckets: [0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.1, 0.5],
      registers: [registry],
    });
    this.quotaExceededTotal = new Counter({
      name: 'kb_dispatcher_quota_exceeded_total',
      help: 'Room calls not run because the tenant reached its daily limit (KST day)',
      registers: [registry],
    });
    // No tenant label (one series per tenant would grow without bound); who is throttled is in kb_api_logs (error_code KB_ERR_BUSY).
    this.busyTotal = new Counter({
      name: 'kb_dispatcher_busy_total',
      help: "Room calls answered busy because their tenant already had its plan's room calls in hand at this dispatcher",
      registers: [registry],
    });
    this.unstorableTotal = new Counter({
      name: 'kb_dispatcher_unstorable_results_total',
      help: 'Results the database refused after the target was called (kind: data, bug); answered with an error, never called again',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.givenUpTotal = new Counter({
      name: 'kb_dispatcher_retries_given_up_total',
      help: 'Redelivered room calls past their attempts, answered with an error instead of calling the target again',
      registers: [registry],
    });
    this.dependencyDown = new Gauge({
      name: 'kb_dispatcher_dependency_down',
      help: '1 while a dependency (database) is down and messages are held',
      registers: [registry],
    });
  }

  event(outcome: EventOutcome): void {
    this.events.inc({ outcome });
    if (outcome === 'replied') this.counters.replied++;
    else if (outcome === 'no_match') this.counters.noMatch++;
    else if (outcome === 'ignored') this.counters.ignored++;
    else this.counters.duplicate++;
  }

  unapproved(kind: 'device' | 'room'): void {
    this.unapprovedTotal.inc({ kind });
    if (kind === 'device') this.counters.unapprovedDevice++;
    else this.counters.unapprovedRoom++;
  }

  targetCall(target: string, errorCode: string | null, seconds: number): void {
    this.targetSeconds.observe({ target, result: errorCode ?? 'ok' }, seconds);
    this.counters.targetCalls++;
    if (errorCode) this.counters.targetErrors++;
  }

  quotaExceeded(): void {
    this.quotaExceededTotal.inc();
    this.counters.quotaExceeded++;
  }

  busy(): void {
    this.busyTotal.inc();
    this.counters.busy++;
  }

  unstorable(kind: 'data' | 'bug'): void {
    this.unstorableTotal.inc({ kind });
    this.counters.unstorable++;
  }

  givenUp(): void {
    this.givenUpTotal.inc();
    this.counters.givenUp++;
  }

  /** How long one step took (`performance.now()` milliseconds in, seconds recorded). */
  stage(stage: 'claim' | 'store' | 'reply', ms: number): void {
    this.stageSeconds.observe({ stage }, ms / 1000);
  }

  overhead(seconds: number): void {
    this.overheadSeconds.observe(seconds);
  }

  undelivered(): void {
    this.undeliveredTotal.inc();
    this.counters.undelivered++;
  }

  republished(): void {
    this.republishedTotal.inc();
    this.counters.republished++;
  }
}
