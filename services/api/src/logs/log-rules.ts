import type { StatsWindow } from '@domaeka/broker/contracts';

/**
 * Pure helpers of the call log and its statistics: what a row says about
 * the chat message behind it, LIKE escaping, stats windows, usage days.
 */

/** Longest `q` of `GET /logs` (a substring search over the tenant's rows, kept cheap). */
export const LOG_SEARCH_MAX_CHARS = 100;

/** The chat message a call answered, as the REST request body recorded it (DESIGN: restRequest). */
export interface RequestSummary {
  room: string | null;
  sender: string | null;
  text: string | null;
}

/**
 * Room, sender and text from `request_data`. The column holds the JSON body
 * sent to the target, cut at 64 KiB (then no longer JSON) or null when the
 * call never got that far: anything unreadable is nulls, never an error.
 */
export function requestSummary(requestData: string | null): RequestSummary {
  const none: RequestSummary = { room: null, sender: null, text: null };
  if (!requestData) return none;
  let body: unknown;
  try {
    body = JSON.parse(requestData);
  } catch {
    return none;
  }
  if (typeof body !== 'object' || body === null) return none;
  const b = body as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return { room: str(b.room), sender: str(b.sender), text: str(b.raw_text) };
}

/** `text` as a literal inside a LIKE/ILIKE pattern (PostgreSQL's default escape is the backslash). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// The windows themselves are part of the API's contract (@domaeka/broker/contracts).

/**
 * Each window is a rolling span ending now, not a calendar unit: `day` is
 * the last 24 hours (what "calls today" on the commands list shows), `week`
 * the last 7 days. `step` is the width of one point of its series.
 * Both are PostgreSQL interval literals, passed as query parameters.
 */
export const WINDOW_SPANS: Record<StatsWindow, { span: string; step: string }> = {
  hour: { span: '1 hour', step: '5 minutes' },
  day: { span: '24 hours', step: '1 hour' },
  week: { span: '7 days', step: '1 day' },
};

/** errors / calls, 0 without calls (a rate of nothing is no error), rounded to 4 places. */
export function errorRate(calls: number, errors: number): number {
  return calls === 0 ? 0 : Math.round((errors / calls) * 10_000) / 10_000;
}

/** A duration from SQL (double or numeric text, null without rows) as whole milliseconds. */
export function millis(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n) : null;
}

/** Days `GET /usage/history` accepts. */
export const USAGE_HISTORY_MAX_DAYS = 90;
