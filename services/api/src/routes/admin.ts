import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { requireAdmin } from '../ops/tenant-admin-service.js';
import { BigintIdParams, bigintId } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

const DeadLetterQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('replayed'), Type.Literal('discarded')])),
  // More than 100 is clamped to 100 (one page), not refused.
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  before: Type.Optional(bigintId()),
});
const IdParams = BigintIdParams;

/**
 * The platform operator's routes (admin only; everyone else 403
 * KB_ERR_FORBIDDEN before anything is validated): metrics, who is
 * throttled, and dead letters. Tenants and plans stay in plans.ts.
 */
export async function adminRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.addHook('onRequest', async (req) => requireAdmin(callerOf(req)));

  app.get('/admin/metrics', async (req) => services().ops.metrics.get(callerOf(req)));
  // Who is held back by the fair-share limits over the last 15 minutes (test runs, busy room calls, runner lines).
  app.get('/admin/throttled', async (req) => services().ops.throttle.list(callerOf(req)));

  app.get<{ Querystring: Static<typeof DeadLetterQuery> }>('/admin/dead-letters', { schema: { querystring: DeadLetterQuery } }, async (req) =>
    services().ops.deadLetters.list(callerOf(req), req.query),
  );
  app.get<{ Params: Static<typeof IdParams> }>('/admin/dead-letters/:id', { schema: { params: IdParams } }, async (req) =>
    services().ops.deadLetters.get(callerOf(req), req.params.id),
  );
  app.post<{ Params: Static<typeof IdParams> }>('/admin/dead-letters/:id/replay', { schema: { params: IdParams } }, async (req) =>
    services().ops.deadLetters.replay(callerOf(req), req.params.id),
  );
  app.post<{ Params: Static<typeof IdParams> }>('/admin/dead-letters/:id/discard', { schema: { params: IdParams } }, async (req) =>
    services().ops.deadLetters.discard(callerOf(req), req.params.id),
  );
}
