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

export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return d.toLocaleString('ko-KR', { timeZone: 'Asia/Seoul', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The request dict of the seed's editor drawing, for a blank command. */
export const DEFAULT_TEST_INPUT = { parameters: ['화도읍'], sender: '테스터', room: '테스트방' };

export function pretty(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

/** Date and time to the second, Korean style in Asia/Seoul (logs, dead letters). */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return new Date(iso).toLocaleString('ko-KR', {
    timeZone: 'Asia/Seoul',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
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
