import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { LOG_SEARCH_MAX_CHARS } from '../logs/log-rules.js';
import { BigintIdParams, bigintId } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

const LogQuery = Type.Object({
  commandId: Type.Optional(bigintId()),
  // More than 100 is clamped to 100 (one page), not refused.
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  before: Type.Optional(bigintId()),
  status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('error')])),
  errorCode: Type.Optional(Type.String({ pattern: '^KB_ERR_[A-Z0-9_]{1,60}$' })),
  // RFC 3339 with a zone (ajv's date-time), so a bare date never means "some timezone's midnight".
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  q: Type.Optional(Type.String({ maxLength: LOG_SEARCH_MAX_CHARS })),
});
const IdParams = BigintIdParams;

/** The tenant's call log, newest first; `nextBefore` pages further back. */
export async function logRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get<{ Querystring: Static<typeof LogQuery> }>('/logs', { schema: { querystring: LogQuery } }, async (req) =>
    services().logs.list(callerOf(req), req.query),
  );
  app.get<{ Params: Static<typeof IdParams> }>('/logs/:id', { schema: { params: IdParams } }, async (req) =>
    services().logs.get(callerOf(req), req.params.id),
  );
}
