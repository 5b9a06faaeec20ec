/**
 * Schedules (issue 15 item 3): a command run on a cron expression read in
 * KST, its reply sent to rooms the tenant chose as `scheduleMessage`.
 */

/** A room a schedule sends to: one of the tenant's bots and an approved room of it. */
export interface ScheduleRoomView {
  botId: string;
  /** The bot's name (for the picker). */
  botName: string;
  room: string;
  channelId: string;
}

/** What the scheduler did with one period. */
export type ScheduleFireState = 'claimed' | 'published' | 'skipped';

export interface ScheduleFireView {
  /** The period (ISO-8601 UTC). */
  fireAt: string;
  /** `YYYY-MM-DD HH:mm` in KST. */
  fireAtKst: string;
  state: ScheduleFireState;
  /** Korean: 실행 대기 / 실행됨 / 건너뜀 (놓친 실행). */
  stateLabel: string;
  eventId: string;
  /** How late the scheduler took it (ms). */
  lateMs: number;
  /** The call's outcome once the dispatcher ran it (null: not yet, or skipped). */
  outcome: { errorCode: string | null; responseTimeMs: number | null; at: string } | null;
}

export interface ScheduleView {
  id: string;
  commandId: number;
  /** The command's words (null when the command was deleted). */
  command: string | null;
  cron: string;
  /** Korean label (`매일 오전 9시`). */
  label: string;
  rooms: ScheduleRoomView[];
  /** The command's `raw_text` on each fire. */
  input: string;
  enabled: boolean;
  /** The next period (ISO), null when disabled. */
  nextFireAt: string | null;
  /** The same in KST, `YYYY-MM-DD HH:mm`. */
  nextFireAtKst: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ScheduleDetailView extends ScheduleView {
  /** The newest fires first (at most 20). */
  recentFires: ScheduleFireView[];
  /** The missed-fire policy, as the UI shows it. */
  missedFirePolicy: MissedFirePolicyView;
}

export interface ScheduleListView {
  items: ScheduleView[];
  missedFirePolicy: MissedFirePolicyView;
}

export interface MissedFirePolicyView {
  /** A missed period still runs when at most this late. */
  graceMs: number;
  ko: string;
  en: string;
}

/** POST /schedules/preview: one of `phrase` or `cron`. */
export interface SchedulePreviewRequest {
  phrase?: string;
  cron?: string;
}

export interface SchedulePreviewView {
  cron: string;
  label: string;
  /** The next 5 periods, ISO-8601 UTC. */
  next: string[];
  /** The same, `YYYY-MM-DD HH:mm` KST. */
  nextKst: string[];
}

/** POST /schedules (PATCH: any of these). A schedule is set by `phrase` or `cron`. */
export interface ScheduleCreateRequest {
  commandId: number;
  phrase?: string;
  cron?: string;
  rooms: { botId: string; channelId: string }[];
  input?: string;
  enabled?: boolean;
}
