/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week),
 * always read in Korean time. KST is UTC+9 all year (no daylight saving
 * since 1988), so shifting the instant by nine hours and reading the UTC
 * fields is exact: no hour is skipped or repeated.
 *
 * Fields take `*`, numbers, ranges `a-b`, lists `a,b`, steps `*\/n`,
 * `a-b/n` and `a/n`; day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT,
 * months 1-12 or JAN-DEC. As in Vixie cron, when both day-of-month and
 * day-of-week are restricted a day matching either fires.
 */
const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;

export interface CronSpec {
  /** The expression as normalised (single spaces). */
  expr: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Whether the field was `*` (or a step over the whole range), for the either-day rule. */
  anyDay: boolean;
  anyWeekday: boolean;
}

export class CronError extends Error {
  override readonly name = 'CronError';
}

interface FieldDef {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldDef[] = [
  { label: '분', min: 0, max: 59 },
  { label: '시', min: 0, max: 23 },
  { label: '일', min: 1, max: 31 },
  { label: '월', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { label: '요일', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

function value(token: string, f: FieldDef): number {
  const upper = token.toUpperCase();
  const named = f.names?.indexOf(upper) ?? -1;
  if (named >= 0) return f.label === '월' ? named + 1 : named;
  if (!/^\d{1,2}$/.test(token)) throw new CronError(`${f.label} 칸의 '${token}'은(는) 숫자가 아닙니다`);
  const n = Number(token);
  if (n < f.min || n > f.max) throw new CronError(`${f.label} 칸의 ${n}은(는) ${f.min}~${f.max} 밖입니다`);
  return n;
}

function parseField(text: string, f: FieldDef): { set: Set<number>; any: boolean } {
  const set = new Set<number>();
  let any = false;
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw new CronError(`${f.label} 칸 '${text}'을(를) 읽을 수 없습니다`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || (stepText !== undefined && !/^\d+$/.test(stepText))) {
      throw new CronError(`${f.label} 칸의 간격 '${stepText}'이(가) 올바르지 않습니다`);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      [lo, hi] = [f.min, f.label === '요일' ? 6 : f.max];
      // As in Vixie cron, only a bare `*` leaves the field unrestricted (the either-day rule).
      any = any || step === 1;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a ?? '', f);
      hi = value(b ?? '', f);
      if (lo > hi) throw new CronError(`${f.label} 칸의 범위 '${range}'가 거꾸로입니다`);
    } else {
      lo = value(range, f);
      hi = stepText === undefined ? lo : f.max;
    }
    for (let v = lo; v <= hi; v += step) set.add(f.label === '요일' && v === 7 ? 0 : v);
  }
  return { set, any };
}

/** Parses a 5-field expression; throws CronError with a Korean message. */
export function parseCron(expr: string): CronSpec {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') throw new CronError(`cron 식은 칸이 5개여야 합니다 (분 시 일 월 요일), 받은 칸: ${parts[0] === '' ? 0 : parts.length}개`);
  const [mi, h, d, mo, w] = parts.map((p, i) => parseField(p, FIELDS[i]!));
  return {
    expr: parts.join(' '),
    minutes: mi!.set,
    hours: h!.set,
    days: d!.set,
    months: mo!.set,
    weekdays: w!.set,
    anyDay: d!.any,
    anyWeekday: w!.any,
  };
}

function dayMatches(spec: CronSpec, k: Date): boolean {
  const dom = spec.days.has(k.getUTCDate());
  const dow = spec.weekdays.has(k.getUTCDay());
  if (spec.anyDay && spec.anyWeekday) return true;
  if (spec.anyDay) return dow;
  if (spec.anyWeekday) return dom;
  return dom || dow;
}

/** Five years of days: a spec that matches no day in that span (31 February) never fires. */
const MAX_DAYS = 5 * 366;

/**
 * The first fire strictly after `afterMs` (epoch ms), or null when the
 * expression names no real day (`0 9 30 2 *`). Walks days, then hours and
 * minutes of a matching day: at most a few thousand steps.
 */
export function nextFire(spec: CronSpec, afterMs: number): number | null {
  // KST wall time as a UTC date, at the next whole minute.
  const start = Math.floor((afterMs + KST_OFFSET_MS) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const k = new Date(start);
  let first = true;
  for (let i = 0; i <= MAX_DAYS; i++) {
    if (!first) k.setUTCHours(0, 0, 0, 0);
    if (spec.months.has(k.getUTCMonth() + 1) && dayMatches(spec, k)) {
      for (let h = first ? k.getUTCHours() : 0; h < 24; h++) {
        if (!spec.hours.has(h)) continue;
        const fromMinute = first && h === k.getUTCHours() ? k.getUTCMinutes() : 0;
        for (let m = fromMinute; m < 60; m++) {
          if (spec.minutes.has(m)) return Date.UTC(k.getUTCFullYear(), k.getUTCMonth(), k.getUTCDate(), h, m) - KST_OFFSET_MS;
        }
      }
    }
    first = false;
    k.setUTCDate(k.getUTCDate() + 1);
  }
  return null;
}

/** The next `count` fires after `afterMs`. */
export function nextFires(spec: CronSpec, afterMs: number, count: number): number[] {
  const out: number[] = [];
  let t = afterMs;
  while (out.length < count) {
    const n = nextFire(spec, t);
    if (n === null) break;
    out.push(n);
    t = n;
  }
  return out;
}

/**
 * The latest fire at or before `atMs` and after `sinceMs` (exclusive), or
 * null: the period a scheduler that was down owes (missed-fire policy).
 * Walks forward from `sinceMs`, bounded by `limit` steps.
 */
export function lastFireBetween(spec: CronSpec, sinceMs: number, atMs: number, limit = 100_000): { last: number | null; count: number } {
  let t = sinceMs;
  let last: number | null = null;
  let count = 0;
  while (count < limit) {
    const n = nextFire(spec, t);
    if (n === null || n > atMs) break;
    last = n;
    count++;
    t = n;
  }
  return { last, count };
}

/** An instant as KST wall time, `YYYY-MM-DD HH:mm` (labels, previews). */
export function kstMinute(epochMs: number): string {
  return new Date(epochMs + KST_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}
