import type { CallLogPayload } from '../schemas/telemetry.js';
import type { ApprovalStatus } from './bots.js';
import type { PlatformMetrics } from './ops.js';
import type { RunView } from './runs.js';

/**
 * The socket.io events between the API and the browser (services/api/README.md
 * "Live"), one map each way, typed for `Server<ClientToServerEvents,
 * ServerToClientEvents>` (the API) and `Socket<JsonEvents<ServerToClientEvents>,
 * JsonEvents<ClientToServerEvents>>` (socket.io-client: Dates arrive as strings).
 */

/** A room call as the live tail shows it. */
export type TailCall = Omit<CallLogPayload, 'tenantId'>;

/** A test run's CPU and memory as the runner samples them (every 250 ms). */
export interface RunStats {
  elapsedMs: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number;
}

export interface RunStatsEvent extends RunStats {
  runId: string;
}

/** What a run printed, as it printed it (`seq` 0, 1, 2 ... per run). */
export interface RunOutputEvent {
  runId: string;
  seq: number;
  data: string;
}

export interface LiveError {
  code: string;
  message: string;
}

/** The answer to a join: refused with a coded error (KB_ERR_NOT_FOUND, KB_ERR_FORBIDDEN, KB_ERR_UNAUTHENTICATED, ...). */
export type JoinAnswer = { ok: true } | { ok: false; error: LiveError };
/** `run:join` answers with the run so far, so a late joiner catches up without a gap. */
export type RunJoinAnswer = { ok: true; run: RunView } | { ok: false; error: LiveError };

/** `tail:join`: all the tenant's room calls, one command's or one bot's (not both). */
export interface TailJoin {
  commandId?: number | string | null;
  botId?: string | null;
}

/**
 * A phone of one of the tenant's bots started counting (its first signed
 * packet after the handshake: `online`) or its connection ended. To the
 * sockets in the tenant's `devices` room (`devices:join`).
 */
export interface DevicePresenceEvent {
  botId: string;
  deviceKey: string;
  status: ApprovalStatus;
  online: boolean;
  /** Epoch ms at the gateway. */
  at: number;
}

export interface ServerToClientEvents {
  'run:output': (e: RunOutputEvent) => void;
  'run:stats': (e: RunStatsEvent) => void;
  'run:result': (run: RunView) => void;
  'tail:call': (call: TailCall) => void;
  /** Administrators in the `admin` room, every 2 s: what `GET /admin/metrics` answers. */
  'admin:metrics': (m: PlatformMetrics) => void;
  /** The socket's session ended or its key was revoked: the server closes it right after. */
  'auth:ended': (e: LiveError) => void;
  /** The bot this tail watched was deleted: the socket is out of its room. */
  'tail:ended': (e: { botId: string; reason: 'bot_deleted' }) => void;
  /** `devices` room: a phone connected or went away (the gateway's `device.presence`). */
  'device:presence': (e: DevicePresenceEvent) => void;
  /** `devices` room: the owner approved or blocked a phone of this bot (null: of some bot), here or in another tab. */
  'devices:changed': (e: { botId: string | null }) => void;
}

export interface ClientToServerEvents {
  'run:join': (arg: { runId: string }, ack: (answer: RunJoinAnswer) => void) => void;
  'run:leave': (arg: { runId: string }) => void;
  'tail:join': (arg: TailJoin, ack: (answer: JoinAnswer) => void) => void;
  'tail:leave': () => void;
  /** Administrators only (else KB_ERR_FORBIDDEN): the `admin:metrics` feed. */
  'admin:join': (arg: Record<string, never>, ack: (answer: JoinAnswer) => void) => void;
  'admin:leave': () => void;
  /** The tenant's phones: `device:presence` and `devices:changed` (the bot page's connection step, the top menu's pending badge). */
  'devices:join': (arg: Record<string, never>, ack: (answer: JoinAnswer) => void) => void;
  'devices:leave': () => void;
}
