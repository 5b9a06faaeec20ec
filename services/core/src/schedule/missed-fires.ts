import { nextFire, type CronSpec } from './cron.js';

/**
 * The missed-fire policy, one place for the scheduler and the API (which
 * shows `MISSED_FIRE_POLICY.ko` beside every schedule).
 *
 * A schedule due at `due` is taken at `now` (a tick later, or after the
 * schedulers were down). Of the periods from `due` to `now`, only the
 * latest runs, and only when it is at most `graceMs` late; the others are
 * recorded as skipped (the newest `MAX_SKIPPED_RECORDED` of them; older
 * ones are only counted). A shop's "매일 오전 9시" notice therefore never
 * arrives at noon, and a "30분마다" schedule down for a day does not fire 48
 * times on its return.
 */
export const MISSED_FIRE_POLICY = {
  graceMs: 10 * 60 * 1000,
  ko: '서버가 멈춰 있던 동안 놓친 실행은 가장 최근 한 번만, 예정 시각에서 10분이 지나지 않았을 때 실행합니다. 그보다 오래된 실행은 건너뛰고 "건너뜀"으로 기록합니다.',
  en: 'Of the periods missed while the schedulers were down, only the latest runs, and only when it is at most 10 minutes late; older ones are skipped and recorded as skipped.',
} as const;

export const MAX_SKIPPED_RECORDED = 100;

export interface FirePlan {
  /** The period to run now, or null when every owed period is too late. */
  fire: number | null;
  /** Periods recorded as skipped (newest MAX_SKIPPED_RECORDED), oldest first. */
  skipped: number[];
  /** How many periods were skipped in all (recorded or not). */
  skippedCount: number;
  /** The schedule's next period after `now` (null: the expression names no real day). */
  next: number | null;
}

/** What to do with a schedule due at `due` (epoch ms), taken at `now`. */
export function planFires(spec: CronSpec, due: number, now: number, graceMs = MISSED_FIRE_POLICY.graceMs): FirePlan {
  const owed: number[] = [];
  let count = 0;
  // `due` itself is a period (it was computed by nextFire); walk the ones after it up to now.
  for (let t: number | null = due; t !== null && t <= now; t = nextFire(spec, t)) {
    count++;
    owed.push(t);
    if (owed.length > MAX_SKIPPED_RECORDED + 1) owed.shift();
    if (count > 1_000_000) break;
  }
  const latest = owed.length > 0 ? owed[owed.length - 1]! : null;
  const fire = latest !== null && now - latest <= graceMs ? latest : null;
  const skipped = fire === null ? owed.slice(-MAX_SKIPPED_RECORDED) : owed.slice(0, -1).slice(-MAX_SKIPPED_RECORDED);
  return { fire, skipped, skippedCount: count - (fire === null ? 0 : 1), next: nextFire(spec, now) };
}
