import type { LogView } from '@domaeka/broker/contracts';
import type { ApiLog } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import { requestSummary } from './log-rules.js';
import type { Orm } from '../db/em.js';
import { LogRepository } from './log-repository.js';

export const LOGS_MAX_PAGE = 100;

export interface LogQuery {
  commandId?: number;
  limit?: number;
  /** Log id cursor: entries older than this one. */
  before?: number;
  /** `ok`: the call succeeded; `error`: it has an error code. */
  status?: 'ok' | 'error';
  /** Exact `KB_ERR_*` code. */
  errorCode?: string;
  /** ISO date-times: `from` <= created_at < `to`. */
  from?: string;
  to?: string;
  /** Substring of the request sent to the target (the chat text among it), case-insensitive. */
  q?: string;
}

/** The tenant's target-call log (`kb_api_logs`), newest first, paged by id. */
export class LogService {
  private readonly logs: LogRepository;

  constructor(orm: Orm) {
    this.logs = new LogRepository(orm);
  }

  async list(caller: Caller, q: LogQuery): Promise<{ items: LogView[]; nextBefore: number | null }> {
    const limit = Math.min(q.limit ?? 50, LOGS_MAX_PAGE);
    // A successful call has no error code: asking for both matches nothing.
    if (q.status === 'ok' && q.errorCode !== undefined) return { items: [], nextBefore: null };
    const { rows, words } = await this.logs.list(caller.tenantId, q, limit);
    const last = rows.at(-1);
    return { items: rows.map((l) => toLogView(l, words)), nextBefore: rows.length === limit && last ? last.id : null };
  }

  /** One call with its whole request and response; another tenant's is 404. */
  async get(caller: Caller, id: number): Promise<LogView> {
    const found = await this.logs.get(caller.tenantId, id);
    if (!found) throw apiErrors.notFound('log');
    return toLogView(found.row, found.words);
  }
}

function toLogView(l: ApiLog, words: Map<number, string>): LogView {
  return {
    id: l.id,
    commandId: l.commandId,
    command: l.commandId === null ? null : (words.get(l.commandId) ?? null),
    eventId: l.eventId,
    botId: l.botId,
    channelId: l.channelId,
    ...requestSummary(l.requestData),
    requestData: l.requestData,
    responseData: l.responseData,
    statusCode: l.statusCode,
    responseTimeMs: l.responseTime,
    errorCode: l.errorCode,
    errorMessage: l.errorMessage,
    source: l.source,
    createdAt: l.createdAt,
  };
}
