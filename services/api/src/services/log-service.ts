import { ApiLog } from '@domaeka/core';
import type { Caller } from './caller.js';
import type { Orm } from './orm.js';

export const LOGS_MAX_PAGE = 100;

export interface LogQuery {
  commandId?: number;
  limit?: number;
  /** Log id cursor: entries older than this one. */
  before?: number;
}

/** The tenant's target-call log (`kb_api_logs`), newest first, paged by id. */
export class LogService {
  constructor(private readonly orm: Orm) {}

  async list(caller: Caller, q: LogQuery): Promise<{ items: LogView[]; nextBefore: number | null }> {
    const limit = Math.min(q.limit ?? 50, LOGS_MAX_PAGE);
    const where: Record<string, unknown> = { tenantId: caller.tenantId };
    if (q.commandId !== undefined) where.commandId = q.commandId;
    if (q.before !== undefined) where.id = { $lt: q.before };
    const items = await this.orm.em.fork().find(ApiLog, where, { orderBy: { id: 'desc' }, limit });
    const last = items.at(-1);
    return { items: items.map(toLogView), nextBefore: items.length === limit && last ? last.id : null };
  }
}

export interface LogView {
  id: number;
  commandId: number | null;
  eventId: string | null;
  botId: string | null;
  channelId: string | null;
  /** The request sent to the target (JSON text, at most 64 KiB; api headers never logged). */
  requestData: string | null;
  responseData: string | null;
  statusCode: number | null;
  responseTimeMs: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
}

function toLogView(l: ApiLog): LogView {
  return {
    id: l.id,
    commandId: l.commandId,
    eventId: l.eventId,
    botId: l.botId,
    channelId: l.channelId,
    requestData: l.requestData,
    responseData: l.responseData,
    statusCode: l.statusCode,
    responseTimeMs: l.responseTime,
    errorCode: l.errorCode,
    errorMessage: l.errorMessage,
    createdAt: l.createdAt,
  };
}
