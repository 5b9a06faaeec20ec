/** Small display helpers (numbers the way a Korean shop owner reads them). */
export function bytes(n: number | null | undefined): string {
  if (n == null) return '-';
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)}KB`;
  return `${(n / (1024 * 1024)).toFixed(1)}MB`;
}

export function ms(n: number | null | undefined): string {
  if (n == null) return '-';
  return n < 1000 ? `${Math.round(n)}ms` : `${(n / 1000).toFixed(2)}s`;
}

export function percent(n: number | null | undefined): string {
  return n == null ? '-' : `${n.toFixed(n < 10 ? 1 : 0)}%`;
}

/** Date and time of a Korean clock (Asia/Seoul, whatever the browser's zone), as numbers. */
function seoulParts(d: Date): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: 'Asia/Seoul',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(d);
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: n('year'), month: n('month'), day: n('day'), hour: n('hour'), minute: n('minute'), second: n('second') };
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * A time the way a Korean reader writes it: "12월 7일 15:04" (with the
 * seconds: "12월 7일 15:04:05"), the year in front only when it is not this
 * year's ("2025년 12월 7일 15:04"). Korean time, 24-hour clock. `now`: for tests.
 */
export function koreanDate(iso: string | Date | null | undefined, opts: { seconds?: boolean; now?: Date } = {}): string {
  if (!iso) return '-';
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return '-';
  const p = seoulParts(d);
  const year = p.year === seoulParts(opts.now ?? new Date()).year ? '' : `${p.year}년 `;
  const time = `${two(p.hour)}:${two(p.minute)}${opts.seconds ? `:${two(p.second)}` : ''}`;
  return `${year}${p.month}월 ${p.day}일 ${time}`;
}

/** When something was saved or seen (lists): to the minute. */
export function when(iso: string | null | undefined): string {
  return koreanDate(iso);
}

/** The request dict of the seed's editor drawing, for a blank command. */
export const DEFAULT_TEST_INPUT = { parameters: ['화도읍'], sender: '테스터', room: '테스트방' };

export function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

/** Date and time to the second (logs, dead letters, resets). */
export function dateTime(iso: string | null | undefined): string {
  return koreanDate(iso, { seconds: true });
}

/** JSON text (a log's request/response) pretty-printed; anything else as it came. */
export function prettyText(text: string | null | undefined): string {
  if (text == null || text === '') return '-';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
