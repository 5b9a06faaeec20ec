/**
 * Daily quotas count per Korean calendar day: tenants are Korean
 * businesses, so "today" turns at midnight in Seoul. KST is UTC+9 all year
 * (no daylight saving since 1988), so a fixed offset is exact: the day
 * changes at 15:00 UTC.
 */
const KST_OFFSET_MS = 9 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The KST date of an instant, as PostgreSQL's `date` reads it: `YYYY-MM-DD`. */
export function kstDay(epochMs: number): string {
  return new Date(epochMs + KST_OFFSET_MS).toISOString().slice(0, 10);
}

/** The `count` KST days ending with the day of `epochMs`, oldest first. */
export function kstDaysEnding(epochMs: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => kstDay(epochMs - (count - 1 - i) * DAY_MS));
}

/** When the KST day of `epochMs` ends (the next KST midnight), in epoch ms: when daily counters start over. */
export function kstDayEnd(epochMs: number): number {
  return Math.floor((epochMs + KST_OFFSET_MS) / DAY_MS) * DAY_MS + DAY_MS - KST_OFFSET_MS;
}
