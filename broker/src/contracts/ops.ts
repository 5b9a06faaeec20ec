/** Why RabbitMQ dead-lettered a message (its `x-death` reason), `unknown` when it did not say. */
export type DeadLetterReason = 'expired' | 'rejected' | 'delivery_limit' | 'maxlen' | 'unknown';
export type DeadLetterStatus = 'pending' | 'replayed' | 'discarded';

/** `GET /admin/dead-letters` (newest first), and the answers of replay and discard. */
export interface DeadLetterView {
  id: number;
  receivedAt: Date;
  status: DeadLetterStatus;
  reason: DeadLetterReason;
  detail: string | null;
  deathCount: number;
  messageId: string | null;
  messageType: string | null;
  exchange: string | null;
  routingKey: string | null;
  queue: string | null;
  bodyBytes: number;
  bodyTruncated: boolean;
  actedBy: string | null;
  actedAt: Date | null;
}

/** `GET /admin/dead-letters/:id`: one dead letter with its body decoded. */
export interface DeadLetterDetail extends DeadLetterView {
  headers: Record<string, unknown>;
  /** The body parsed when it is JSON (else null)... */
  body: unknown;
  /** ...or its text (the first 64 KB). */
  bodyText: string | null;
}

/** A runner as its last heartbeat described it. */
export interface RunnerView {
  runnerId: string;
  capacity: number;
  busy: number;
  /** Null from a runner that does not report its containers. */
  containers: { pool: number; ephemeral: number; dedicated: number } | null;
  /** The tenants whose dedicated container it holds (where their calls go; null from a runner that does not report them). */
  dedicatedTenants: string[] | null;
}

export interface QueueDepth {
  name: string;
  /** Ready messages (not those a consumer holds unacked). */
  messages: number;
  consumers: number;
}

/** The API host's own CPU, load and memory. */
export interface SystemStats {
  /** Busy share of all CPUs since the previous sample (0..100); null on the first sample. */
  cpuPercent: number | null;
  loadavg: number[];
  cpus: number;
  memory: { total: number; free: number; used: number };
}

/** `GET /admin/metrics` and the `admin:metrics` feed (services/api/README.md, "Ops"). */
export interface PlatformMetrics {
  at: string;
  containers: { pool: number; ephemeral: number; dedicated: number; byRunner: RunnerView[] };
  /** Room calls (rows of kb_api_logs, platform-wide): the last 60 s and the last hour. */
  calls: { perMinute: number; lastHour: number };
  /** Over the last hour's calls; null when there were none. */
  responseMs: { avg: number | null; p95: number | null };
  /** The last hour's most called commands. */
  topCommands: { commandId: number; command: string; tenantId: string; tenantName: string; calls: number }[];
  queues: QueueDepth[];
  deadLetters: { pending: number; total: number };
  phones: { connected: number; connections: number; gateways: number };
  system: SystemStats;
}

/** A tenant's line at one runner, from that runner's last heartbeat, plus its busy refusals of the window. */
export interface LaneView {
  runnerId: string;
  running: number;
  waiting: number;
  /** Calls this runner refused as busy over the window (summed from its beats). */
  refused: number;
}

export interface ThrottledTenant {
  tenantId: string;
  tenantName: string;
  planId: string;
  /** `POST /runs` refused by the plan's limits (kb_throttle). */
  testRuns: { perMinute: number; concurrent: number };
  /** Room calls answered "busy" (kb_api_logs rows with KB_ERR_BUSY): over the tenant's calls in hand. */
  roomCallsBusy: number;
  /** Its lines at the runners now (from their heartbeats), with each runner's busy refusals of the window. */
  lanes: LaneView[];
}

/** `GET /admin/throttled`: who the fair-share limits held back over the window (services/api/README.md, "Ops"). */
export interface ThrottledTenants {
  since: string;
  windowMinutes: number;
  tenants: ThrottledTenant[];
}

/** `GET /platform`: where phones reach the bridge (null: the host the browser uses / no gateway up yet). */
export interface PlatformInfo {
  bridge: { host: string | null; port: number | null };
}
