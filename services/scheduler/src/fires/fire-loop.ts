import { envelope, messages, routingKeys, type Publisher, type ScheduleFirePayload } from '@domaeka/broker';
import { CronError, parseCron, planFires } from '@domaeka/core';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { ClaimedFire, FireRow, FireStore } from './fire-store.js';
import type { SchedulerMetrics } from '../metrics.js';

/** `late_ms` is an int column: a period missed for more than ~24 days reads as that much late. */
const lateness = (now: number, t: number) => Math.min(Math.max(0, now - t), 2_147_483_647);

export interface FireLoopOptions {
  instanceId: string;
  batch: number;
  republishAfterMs: number;
  clock: () => number;
  /** Tests only (SCHEDULER_TEST_PUBLISH_DELAY_MS): the gap between commit and publish, held open. */
  publishDelayMs?: number;
  /** Fire rows of periods older than this are deleted (hourly); they are history, not guards. */
  retentionDays: number;
}

const PURGE_EVERY_MS = 60 * 60 * 1000;

/**
 * One tick: claim due schedules (`FOR UPDATE SKIP LOCKED`: instances split
 * them), insert each period's fire row (its primary key makes the fire
 * happen once), advance `next_fire_at`, commit; only then publish the
 * fires (persistent, confirmed) and mark them published. A crash between
 * the commit and the confirm leaves `claimed` rows, which any instance
 * publishes again after `republishAfterMs`; the dispatcher dedupes on the
 * event id, so a fire published twice runs once.
 */
export class FireLoop {
  constructor(
    private readonly store: FireStore,
    private readonly publisher: Publisher,
    private readonly metrics: SchedulerMetrics,
    private readonly logger: Logger,
    private readonly o: FireLoopOptions,
  ) {}

  private lastPurge = 0;

  async tick(): Promise<void> {
    await this.fireDue();
    await this.republishStale();
    await this.purgeOld();
  }

  private async purgeOld(): Promise<void> {
    const now = this.o.clock();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    const purged = await this.store.purge(now - this.o.retentionDays * 24 * PURGE_EVERY_MS, 1000);
    if (purged > 0) this.logger.info({ purged, retentionDays: this.o.retentionDays }, 'old schedule fire rows purged');
  }

  private async fireDue(): Promise<void> {
    const now = this.o.clock();
    const owned = await this.store.transaction(async (client) => {
      const due = await this.store.claimDue(client, now, this.o.batch);
      const fires: ClaimedFire[] = [];
      for (const s of due) {
        let plan;
        try {
          plan = planFires(parseCron(s.cron), s.due, now);
        } catch (err) {
          if (!(err instanceof CronError)) throw err;
          // Saved through the API it parsed; a row that does not is left without a next fire rather than retried every tick.
          this.logger.error({ scheduleId: s.id, cron: s.cron, err: err.message }, 'schedule cron unreadable: not scheduled again');
          await this.store.advance(client, s.id, null);
          continue;
        }
        const rows: FireRow[] = plan.skipped.map((t) => ({ eventId: uuidv7(), fireAt: t, state: 'skipped', lateMs: lateness(now, t) }));
        const fire = plan.fire === null ? null : { eventId: uuidv7(), fireAt: plan.fire, state: 'claimed' as const, lateMs: lateness(now, plan.fire) };
        if (fire) rows.push(fire);
        const mine = await this.store.insertFires(client, s.id, rows, this.o.instanceId, now);
        await this.store.advance(client, s.id, plan.next);
        if (plan.skippedCount > 0) {
          this.metrics.fires.inc({ outcome: 'skipped' }, plan.skippedCount);
          this.logger.warn({ scheduleId: s.id, skipped: plan.skippedCount, fired: plan.fire !== null }, 'missed periods skipped (missed-fire policy)');
        }
        if (fire && mine.has(fire.eventId)) {
          fires.push({ eventId: fire.eventId, fireAt: fire.fireAt, lateMs: fire.lateMs, schedule: s });
        }
      }
      return fires;
    });
    if (owned.length === 0) return;
    if (this.o.publishDelayMs) await new Promise((r) => setTimeout(r, this.o.publishDelayMs));
    const published = await this.publishAll(owned, 'fired');
    await this.store.markPublished(published);
  }

  private async republishStale(): Promise<void> {
    const before = this.o.clock() - this.o.republishAfterMs;
    await this.store.transaction(async (client) => {
      const stale = await this.store.unpublished(client, before, this.o.batch);
      if (stale.length === 0) return;
      this.logger.warn({ count: stale.length }, 'fires claimed but never confirmed published: publishing them again');
      // Marked in the same transaction: the rows stay locked, so two instances never republish the same fire at once.
      await this.store.markPublished(await this.publishAll(stale, 'republished'), client);
    });
  }

  /** Publishes each fire (confirmed); returns the event ids the broker confirmed. One failure does not stop the others. */
  private async publishAll(fires: ClaimedFire[], outcome: 'fired' | 'republished'): Promise<string[]> {
    const done: string[] = [];
    await Promise.all(
      fires.map(async (f) => {
        const payload: ScheduleFirePayload = {
          scheduleId: f.schedule.id,
          tenantId: f.schedule.tenantId,
          commandId: f.schedule.commandId,
          fireAt: new Date(f.fireAt).toISOString(),
          lateMs: Math.max(0, Math.round(f.lateMs)),
          label: f.schedule.label,
          input: f.schedule.input,
          rooms: f.schedule.rooms,
        };
        try {
          await this.publisher.publish(messages.scheduleFire, routingKeys.scheduleFire, envelope(messages.scheduleFire, payload, f.eventId));
          done.push(f.eventId);
          this.metrics.fires.inc({ outcome });
          this.metrics.lag.observe(Math.max(0, this.o.clock() - f.fireAt) / 1000);
        } catch (err) {
          // Left `claimed`: republished after republishAfterMs (by us or another instance).
          this.logger.warn({ eventId: f.eventId, scheduleId: f.schedule.id, err: String(err) }, 'fire not published; will be republished');
        }
      }),
    );
    return done;
  }
}
