import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import type { RouteDeps } from './deps.js';

const LogQuery = Type.Object({
  commandId: Type.Optional(Type.Integer({ minimum: 1 })),
  // More than 100 is clamped to 100 (one page), not refused.
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
});

/** The tenant's call log, newest first; `nextBefore` pages further back. */
export async function logRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get<{ Querystring: Static<typeof LogQuery> }>('/logs', { schema: { querystring: LogQuery } }, async (req) =>
    services().logs.list(callerOf(req), req.query),
  );
}
