import type { Logger } from '@domaeka/core';
import type { Orm } from '../db/em.js';
import { RunRepository } from './run-repository.js';

/** How often each API process looks for runs nobody will finish. */
export const SWEEP_INTERVAL_MS = 10_000;
/**
 * After a run's deadline, the process that holds it still writes its end:
 * the RPC client gives the runner's answer a grace of 1 s and sweeps every
 * 250 ms, then one UPDATE. 10 s more is far beyond that on a loaded
 * machine, and with the sweep interval a lost run ends at most ~20 s after
 * its deadline (premium's 30 s timeout included: "within a minute").
 */
export const SWEEP_GRACE_MS = 10_000;
/** `kb_throttle` is kept as long as the daily usage counters (the dispatcher's retention job: 400 days). */
export const THROTTLE_RETENTION_DAYS = 400;
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
const PURGE_BATCH = 5000;

/** Why a run ended without an answer: its API process died, or the end could not be written. Korean first. */
export const RUN_LOST = {
  code: 'KB_ERR_RUN_LOST',
  message:
    '실행 결과를 받지 못했습니다 (실행 중 서버가 다시 시작되었거나 결과를 저장하지 못함). 다시 실행해 주세요. / the run ended without a result (the API restarted during the run, or its end could not be stored); run it again',
};

/**
 * Ends test runs left queued/running (their API process died, or their end
 * could not be written) as `failed` with KB_ERR_RUN_LOST, every
 * SWEEP_INTERVAL_MS in every API process; each swept run's `run:result`
 * goes to this process's watchers (`onSwept`), and editors elsewhere learn
 * it from `GET /runs/:id`, which they poll while a run lasts. Once an hour
 * it also purges `kb_throttle` rows older than the usage counters'
 * retention (the dispatcher's retention job does not know the table).
 */
export class RunSweeper {
  private timer: NodeJS.Timeout | null = null;
  private lastPurge = 0;
  private running: Promise<unknown> | null = null;
  private readonly runs: RunRepository;

  constructor(
    orm: Orm,
    private readonly logger: Logger,
    /** Beyond a run's own timeout (as RunService sets deadlines): for rows without a deadline. */
    private readonly overheadMs: number,
    private readonly onSwept: (runIds: string[]) => Promise<void>,
    private readonly intervalMs = SWEEP_INTERVAL_MS,
  ) {
    this.runs = new RunRepository(orm);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Sweeps every lost run, or only `runId` (GET /runs/:id of a run no process of ours holds); returns the ids swept. */
  async sweep(runId: string | null = null): Promise<string[]> {
    const ids = await this.runs.sweepLost(RUN_LOST, this.overheadMs, SWEEP_GRACE_MS / 1000, runId);
    if (ids.length) {
      this.logger.warn({ runIds: ids.slice(0, 20), count: ids.length }, 'test runs nobody will finish recorded failed (KB_ERR_RUN_LOST)');
      await this.onSwept(ids);
    }
    return ids;
  }

  /** kb_throttle rows past retention, in batches; returns how many went. */
  async purgeThrottle(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runs.purgeThrottle(THROTTLE_RETENTION_DAYS, PURGE_BATCH);
      total += n;
      if (n < PURGE_BATCH) return total;
    }
  }

  private async tick(): Promise<void> {
    if (this.running) return; // the previous pass is still at work (a slow database)
    const pass = (async () => {
      await this.sweep();
      if (Date.now() - this.lastPurge >= PURGE_INTERVAL_MS) {
        this.lastPurge = Date.now();
        const purged = await this.purgeThrottle();
        if (purged) this.logger.info({ purged }, 'kb_throttle rows past retention purged');
      }
    })().catch((err) => this.logger.warn({ err: String(err) }, 'test-run sweep failed; next pass retries'));
    this.running = pass;
    await pass;
    this.running = null;
  }
}
