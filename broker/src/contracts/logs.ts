/** `GET /logs`, `GET /logs/:id`: one room call of the tenant. */
export interface LogView {
  id: number;
  commandId: number | null;
  /** The command's word (also of a deleted command); null for calls of no command (quota refusals). */
  command: string | null;
  eventId: string | null;
  botId: string | null;
  channelId: string | null;
  /** From the request body: the room, who spoke and what they said (null when not recorded). */
  room: string | null;
  sender: string | null;
  text: string | null;
  /** The request sent to the target (JSON text, at most 64 KiB; api headers never logged). */
  requestData: string | null;
  responseData: string | null;
  statusCode: number | null;
  responseTimeMs: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** Where the message came from: `phone`, `http`, `ingress` (a bot server) or `kakao-skill` (the official channel); null for calls logged before the column. */
  source: string | null;
  createdAt: Date;
}

/** The windows of the call statistics (`?window=`): rolling spans ending now, `day` the last 24 hours. */
export const STATS_WINDOWS = ['hour', 'day', 'week'] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];

/** `GET /commands/:id/stats`. */
export interface CommandStats {
  window: StatsWindow;
  commandId: number;
  calls: number;
  errors: number;
  /** errors / calls (0..1), 0 without calls. */
  errorRate: number;
  /** Response time percentiles and mean over the window's calls (ms); null without calls. */
  p50Ms: number | null;
  p95Ms: number | null;
  avgMs: number | null;
  /** Oldest point first; `t` is the start of a point (ISO), points without calls are zeros. */
  series: { t: string; calls: number; errors: number }[];
}

/** `GET /stats/commands` `items`. */
export interface CommandStatsItem {
  commandId: number;
  command: string;
  calls: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** One KST day of `GET /usage/history`: `executions` are room calls, `testRuns` test runs of `POST /runs`. */
export interface UsageHistoryDay {
  day: string;
  executions: number;
  testRuns: number;
}

/** `GET /usage/history`. */
export interface UsageHistory {
  /** Oldest first, today (KST) last. */
  items: UsageHistoryDay[];
}
