import type { RunnerLane } from '@domaeka/broker';

/**
 * The runner's fair share (issue 12; the README's "Fair share" says why this
 * shape): every tenant has a lane with a cap on calls running at once (its
 * plan's `maxConcurrency`) and a line of calls waiting for their turn. A call
 * runs at once when its tenant is under its cap, nobody of its tenant is
 * ahead of it, and the runner has a slot (`capacity` calls, and at most
 * `containers` of them holding an ephemeral container); otherwise it waits in
 * its tenant's line, or is refused when that line is full. A freed slot goes
 * round robin to the next tenant whose head of line may run, so a tenant with
 * a long line takes one turn per round like everyone else.
 *
 * Pure: no timers, no I/O, the clock passed in; the caller moves the items
 * it gets back (`run` to start, `late` to answer KB_ERR_TIMEOUT). A lane
 * lives while its tenant has a call running or waiting.
 */
export interface LaneLimits {
  /** Calls running at once on this runner (every mode). */
  capacity: number;
  /** Of those, calls that hold an ephemeral container (each is a container). */
  containers: number;
  /** Calls one tenant may have waiting; beyond, refused as busy. */
  lineMax: number;
}

export type Admission = 'run' | 'parked' | 'full';

/** Calls that leave the lines: `run` may start now (their slots are taken), `late` passed their deadline waiting (not run). */
export interface Moves<T> {
  run: T[];
  late: T[];
}

interface Waiting<T> {
  item: T;
  deadline: number;
  container: boolean;
}

class Lane<T> {
  running = 0;
  readonly line: Waiting<T>[] = [];
  /** In the round-robin ring (exactly while the line is not empty). */
  queued = false;
  constructor(
    readonly tenantId: string,
    public cap: number,
  ) {}
}

/** How many lanes a heartbeat names at most (the broker schema's limit). */
export const LANES_REPORTED = 50;

export class TenantLanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Lanes with a line, in round-robin order: the front is asked first, a served or skipped lane goes to the back. */
  private ring: Lane<T>[] = [];
  private runningAll = 0;
  private containersRunning = 0;
  private waitingAll = 0;
  /** Refused as busy since the last report, per tenant. */
  private refusedSince = new Map<string, number>();

  constructor(private readonly limits: LaneLimits) {}

  /**
   * A call arrives. `run`: its slots are taken, the caller runs it and calls
   * `finish` after. `parked`: it waits in its tenant's line (the caller acks
   * its message now; it comes back from `finish`/`expire`). `full`: the line
   * holds `lineMax` already; answer busy. The hot path (tenant under its cap,
   * nobody waiting) is one map lookup and a few comparisons.
   */
  admit(tenantId: string, cap: number, container: boolean, deadline: number, item: T): Admission {
    let lane = this.lanes.get(tenantId);
    if (lane === undefined) {
      lane = new Lane<T>(tenantId, cap);
      this.lanes.set(tenantId, lane);
    } else {
      // The cap travels with each call: a plan change applies from the next call on.
      lane.cap = cap;
    }
    if (lane.line.length === 0 && lane.running < cap && this.fits(container)) {
      this.take(lane, container);
      return 'run';
    }
    if (lane.line.length >= this.limits.lineMax) {
      this.refusedSince.set(tenantId, (this.refusedSince.get(tenantId) ?? 0) + 1);
      if (lane.running === 0 && lane.line.length === 0) this.lanes.delete(tenantId);
      return 'full';
    }
    lane.line.push({ item, deadline, container });
    this.waitingAll++;
    if (!lane.queued) {
      lane.queued = true;
      this.ring.push(lane);
    }
    return 'parked';
  }

  /** A call that got `run` (or came back in `Moves.run`) ended: its slots go to whoever is next. */
  finish(tenantId: string, container: boolean, now: number): Moves<T> {
    const lane = this.lanes.get(tenantId);
    if (lane && lane.running > 0) {
      lane.running--;
      this.runningAll--;
      if (container) this.containersRunning--;
      if (lane.running === 0 && !lane.queued) this.lanes.delete(tenantId);
    }
    return this.waitingAll > 0 ? this.pump(now) : { run: [], late: [] };
  }

  /** Takes every waiting call whose deadline is at or before `now` out of its line (and lets the others move up). */
  expire(now: number): Moves<T> {
    const late: T[] = [];
    for (const lane of this.ring) {
      if (!lane.line.some((w) => w.deadline <= now)) continue;
      const keep = lane.line.filter((w) => {
        if (w.deadline > now) return true;
        late.push(w.item);
        return false;
      });
      this.waitingAll -= lane.line.length - keep.length;
      lane.line.splice(0, lane.line.length, ...keep);
    }
    if (late.length) this.dropEmptyLanes();
    const moved = this.pump(now);
    return { run: moved.run, late: [...late, ...moved.late] };
  }

  /** The earliest deadline of a waiting call (to time the next `expire`), or null. */
  nextDeadline(): number | null {
    let first: number | null = null;
    for (const lane of this.ring) for (const w of lane.line) if (first === null || w.deadline < first) first = w.deadline;
    return first;
  }

  /** Empties every line (the runner stops): the caller answers them. */
  drain(): T[] {
    const all: T[] = [];
    for (const lane of this.ring) all.push(...lane.line.splice(0).map((w) => w.item));
    this.waitingAll = 0;
    this.dropEmptyLanes();
    return all;
  }

  /** Calls running now (the heartbeat's `busy`). */
  get running(): number {
    return this.runningAll;
  }

  /** Calls waiting in lines now. */
  get waiting(): number {
    return this.waitingAll;
  }

  /** Calls running now that hold an ephemeral container. */
  get containers(): number {
    return this.containersRunning;
  }

  /**
   * The heartbeat's `lanes`: tenants with calls waiting or refused since the
   * last report, longest lines first, at most `LANES_REPORTED`. Resets the
   * refused counts.
   */
  report(): RunnerLane[] {
    const rows = new Map<string, RunnerLane>();
    for (const lane of this.ring) rows.set(lane.tenantId, { tenantId: lane.tenantId, running: lane.running, waiting: lane.line.length, refused: 0 });
    for (const [tenantId, refused] of this.refusedSince) {
      const row = rows.get(tenantId);
      if (row) row.refused = refused;
      else rows.set(tenantId, { tenantId, running: this.lanes.get(tenantId)?.running ?? 0, waiting: 0, refused });
    }
    this.refusedSince = new Map();
    return [...rows.values()].sort((a, b) => b.waiting - a.waiting || b.refused - a.refused).slice(0, LANES_REPORTED);
  }

  private fits(container: boolean): boolean {
    return this.runningAll < this.limits.capacity && (!container || this.containersRunning < this.limits.containers);
  }

  private take(lane: Lane<T>, container: boolean): void {
    lane.running++;
    this.runningAll++;
    if (container) this.containersRunning++;
  }

  /**
   * Hands free slots round robin: the lane at the front of the ring gets one
   * call started if its head may run (its cap, the runner's slots), then goes
   * to the back. Stops when the runner is full or a whole round started nothing.
   * Heads past their deadline leave as `late` on the way (never started late).
   */
  private pump(now: number): Moves<T> {
    const run: T[] = [];
    const late: T[] = [];
    let skipped = 0;
    while (this.ring.length > 0 && this.runningAll < this.limits.capacity && skipped < this.ring.length) {
      const lane = this.ring.shift()!;
      let head = lane.line[0];
      while (head && head.deadline <= now) {
        lane.line.shift();
        this.waitingAll--;
        late.push(head.item);
        head = lane.line[0];
      }
      if (head && lane.running < lane.cap && this.fits(head.container)) {
        lane.line.shift();
        this.waitingAll--;
        this.take(lane, head.container);
        run.push(head.item);
        skipped = 0;
      } else if (head) {
        skipped++;
      }
      if (lane.line.length > 0) {
        this.ring.push(lane);
      } else {
        lane.queued = false;
        if (lane.running === 0) this.lanes.delete(lane.tenantId);
        // The ring is one shorter: the lanes already skipped stay counted.
        skipped = Math.min(skipped, this.ring.length);
      }
    }
    return { run, late };
  }

  private dropEmptyLanes(): void {
    this.ring = this.ring.filter((lane) => {
      if (lane.line.length > 0) return true;
      lane.queued = false;
      if (lane.running === 0) this.lanes.delete(lane.tenantId);
      return false;
    });
  }
}
