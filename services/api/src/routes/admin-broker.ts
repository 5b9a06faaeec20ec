import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { requireAdmin } from '../ops/tenant-admin-service.js';
import type { RouteDeps } from './deps.js';

/** GET /admin/broker (admin only): the API's own broker connection, for the admin page's "not connected" line. */
export async function adminBrokerRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.addHook('onRequest', async (req) => requireAdmin(callerOf(req)));
  app.get('/admin/broker', async (req) => services().broker.get(callerOf(req)));
}
