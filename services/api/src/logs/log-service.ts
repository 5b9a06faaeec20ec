import type { LogView } from '@domaeka/broker/contracts';
import { ApiLog, Command } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import { escapeLike, requestSummary } from './log-rules.js';
import type { Em, Orm } from '../db/em.js';

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
  constructor(private readonly orm: Orm) {}

  async list(caller: Caller, q: LogQuery): Promise<{ items: LogView[]; nextBefore: number | null }> {
    const limit = Math.min(q.limit ?? 50, LOGS_MAX_PAGE);
    // A successful call has no error code: asking for both matches nothing.
    if (q.status === 'ok' && q.errorCode !== undefined) return { items: [], nextBefore: null };
    const where: Record<string, unknown> = { tenantId: caller.tenantId };
    if (q.commandId !== undefined) where.commandId = q.commandId;
    if (q.before !== undefined) where.id = { $lt: q.before };
    if (q.status === 'ok') where.errorCode = null;
    if (q.status === 'error') where.errorCode = { $ne: null };
    // An exact code implies status=error.
    if (q.errorCode !== undefined) where.errorCode = q.errorCode;
    const created: Record<string, Date> = {};
    if (q.from !== undefined) created.$gte = new Date(q.from);
    if (q.to !== undefined) created.$lt = new Date(q.to);
    if (Object.keys(created).length > 0) where.createdAt = created;
    if (q.q !== undefined && q.q !== '') where.requestData = { $ilike: `%${escapeLike(q.q)}%` };
    const em = this.orm.em.fork();
    const items = await em.find(ApiLog, where, { orderBy: { id: 'desc' }, limit });
    const words = await commandWords(em, caller.tenantId, items);
    const last = items.at(-1);
    return { items: items.map((l) => toLogView(l, words)), nextBefore: items.length === limit && last ? last.id : null };
  }

  /** One call with its whole request and response; another tenant's is 404. */
  async get(caller: Caller, id: number): Promise<LogView> {
    const em = this.orm.em.fork();
    const row = await em.findOne(ApiLog, { id, tenantId: caller.tenantId });
    if (!row) throw apiErrors.notFound('log');
    return toLogView(row, await commandWords(em, caller.tenantId, [row]));
  }
}

/** Command id -> command word, deleted commands included (their logs stay readable). */
async function commandWords(em: Em, tenantId: string, rows: ApiLog[]): Promise<Map<number, string>> {
  const ids = [...new Set(rows.map((r) => r.commandId).filter((id): id is number => id !== null))];
  if (ids.length === 0) return new Map();
  const cmds = await em.find(Command, { id: { $in: ids }, tenantId }, { fields: ['id', 'command'] });
  return new Map(cmds.map((c) => [c.id, c.command]));
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
    createdAt: l.createdAt,
  };
}
