/** What the API answers (services/api/README.md); dates arrive as ISO strings. */
export interface Me {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  tenant: { id: string; name: string; plan: string };
}

export type Target =
  | { type: 'sandbox'; language: 'python'; code: string }
  | { type: 'http'; url: string; method?: string; headers?: Record<string, string> };

export interface Command {
  id: number;
  command: string;
  pattern: string | null;
  description: string | null;
  timeoutMs: number;
  isActive: boolean;
  target: Target;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface LintFinding {
  code: string;
  message: string;
  /** 1-based, as the sandbox runtime's lint reports them. */
  line: number;
  column: number;
}

export interface RunView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  result: Record<string, unknown> | null;
  error: { code: string; message: string; line?: number } | null;
  output: string;
  durationMs: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  commandId: number | null;
}

export interface RunStats {
  elapsedMs: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  command: string;
  pattern: string | null;
  testInput: unknown;
  code: string;
  liveOutput?: boolean;
}

export interface CommandStats {
  commandId: number;
  calls: number;
  errors: number;
  errorRate: number | null;
}

// --- bots, logs, usage, admin (services/api/README.md) ---
export type ApprovalStatus = 'pending' | 'approved' | 'blocked';

export interface Bot {
  id: string;
  name: string;
  manualRoomApproval: boolean;
  isActive: boolean;
  createdAt: string;
}

/** Only in the answers of POST /bots and rotate-secret: never readable again. */
export interface BotSecret {
  id: string;
  name: string;
  secretKey: string;
  salt: string;
}

export interface Device {
  id: string;
  deviceKey: string;
  status: ApprovalStatus;
  clientType: string | null;
  clientVersion: string | null;
  ip: string | null;
  info: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  rttMs: number | null;
  /** What the phone reports with its pongs (total_memory, memory_usage in MB, memory_percent, ...). */
  monitoring: Record<string, unknown> | null;
  rejectedPackets: number;
}

export interface Room {
  id: string;
  channelId: string;
  name: string;
  status: ApprovalStatus;
  isGroupChat: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface LogEntry {
  id: number;
  commandId: number | null;
  command: string | null;
  eventId: string | null;
  botId: string | null;
  channelId: string | null;
  room: string | null;
  sender: string | null;
  text: string | null;
  /** JSON text (at most 64 KiB). */
  requestData: string | null;
  responseData: string | null;
  statusCode: number | null;
  responseTimeMs: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
}

export interface Usage {
  plan: { id: string; name: string };
  today: { day: string; resetsAt: string; roomCalls: { used: number; limit: number }; testRuns: { used: number; limit: number } };
  days: { day: string; roomCalls: number; testRuns: number }[];
}

export interface UsageDay {
  day: string;
  executions: number;
  testRuns: number;
}

export interface PlatformMetrics {
  at: string;
  containers: { pool: number; ephemeral: number; dedicated: number };
  calls: { perMinute: number; lastHour: number };
  responseMs: { avg: number | null; p95: number | null };
  topCommands: { commandId: number; command: string; tenantId: string; tenantName: string; calls: number }[];
  queues: { name: string; messages: number; consumers: number }[];
  deadLetters: { pending: number; total: number };
  phones: { connected: number; connections: number; gateways: number };
  system: { cpuPercent: number | null; loadavg: number[]; cpus: number; memory: { total: number; free: number; used: number } };
}

/** `GET /admin/throttled`: who the fair-share limits held back over the window. */
export interface ThrottledTenants {
  since: string;
  windowMinutes: number;
  tenants: {
    tenantId: string;
    tenantName: string;
    planId: string;
    testRuns: { perMinute: number; concurrent: number };
    roomCallsBusy: number;
    lanes: { runnerId: string; running: number; waiting: number; refused: number }[];
  }[];
}

export interface DeadLetter {
  id: number;
  receivedAt: string;
  status: 'pending' | 'replayed' | 'discarded';
  reason: string;
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
  actedAt: string | null;
  headers?: Record<string, unknown>;
  body?: unknown;
  bodyText?: string | null;
}

/** POST /patterns/test */
export type PatternTest =
  | { matched: true; command: string; parameters: string[]; groups: Record<string, string> }
  | { matched: false; command: string; reason: 'command' | 'pattern'; parameters: string[]; groups: Record<string, string> };

/** GET /commands/:id/versions (newest first). */
export interface CommandVersion {
  version: number;
  createdAt: string;
  createdBy: string | null;
  command: string;
  pattern: string | null;
  description: string | null;
  timeoutMs: number;
  isActive: boolean;
  target: Target;
}

/** socket.io `tail:call`: one room call as it happened. */
export interface TailCall {
  eventId: string;
  botId: string;
  commandId: string;
  command: string;
  room: string;
  channelId: string;
  sender: string;
  text: string;
  parameters: string[];
  reply: { type: string; text: string } | null;
  errorCode: string | null;
  errorMessage: string | null;
  responseTimeMs: number;
  at: number;
}

/** POST /commands/test-http */
export interface HttpTestResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  reply: { type: string; text: string } | null;
  body: string | null;
  error: { code: string; message: string } | null;
}

/** GET /secrets (names only, never values). */
export interface SecretInfo {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** GET/PUT /egress: the tenant's egress domain allowlist; `enabled` when the plan gives sandbox code network. */
export interface EgressSettings {
  enabled: boolean;
  plan: string;
  /** Canonical names (lower case, punycode), `*.example.com` for the names below a domain; sorted. */
  domains: string[];
}

/** GET /platform: where phones reach the bridge (null: this page's host / no gateway up yet). */
export interface PlatformInfo {
  bridge: { host: string | null; port: number | null };
}
