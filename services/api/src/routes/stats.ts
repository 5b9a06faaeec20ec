import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { USAGE_HISTORY_MAX_DAYS } from '../logs/log-rules.js';
import { STATS_WINDOWS } from '@domaeka/broker/contracts';
import { BigintIdParams } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

// Rolling windows ending now: `day` is the last 24 hours (see WINDOW_SPANS).
const WindowQuery = Type.Object({
  window: Type.Optional(Type.Union(STATS_WINDOWS.map((w) => Type.Literal(w)), { default: 'day' })),
});
const IdParams = BigintIdParams;
const HistoryQuery = Type.Object({
  days: Type.Optional(Type.Integer({ minimum: 1, maximum: USAGE_HISTORY_MAX_DAYS, default: 30 })),
});

type WindowReq = { Querystring: Static<typeof WindowQuery> };

/** Call statistics per command and the daily usage history: what the web's lists and charts show. */
export async function statsRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get<WindowReq & { Params: Static<typeof IdParams> }>(
    '/commands/:id/stats',
    { schema: { params: IdParams, querystring: WindowQuery } },
    async (req) => services().stats.command(callerOf(req), req.params.id, req.query.window ?? 'day'),
  );
  app.get<WindowReq>('/stats/commands', { schema: { querystring: WindowQuery } }, async (req) =>
    services().stats.commands(callerOf(req), req.query.window ?? 'day'),
  );
  app.get<{ Querystring: Static<typeof HistoryQuery> }>('/usage/history', { schema: { querystring: HistoryQuery } }, async (req) =>
    services().stats.usageHistory(callerOf(req), req.query.days ?? 30),
  );
}
