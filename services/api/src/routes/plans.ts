import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { requireAdmin } from '../ops/tenant-admin-service.js';
import { UuidIdParams } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

const TenantParams = UuidIdParams;
const PlanBody = Type.Object({ planId: Type.String({ minLength: 1, maxLength: 50 }) }, { additionalProperties: false });

/** Plans and quotas: the caller's usage of today (KST) and the last days; administrators manage tenants' plans. */
export async function planRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/usage', async (req) => services().usage.usage(callerOf(req)));

  await app.register(async (admin) => {
    // Before body validation: a tenant user learns nothing about these routes but 403.
    admin.addHook('onRequest', async (req) => requireAdmin(callerOf(req)));
    admin.get('/admin/tenants', async (req) => services().tenants.list(callerOf(req)));
    admin.patch<{ Params: Static<typeof TenantParams>; Body: Static<typeof PlanBody> }>(
      '/admin/tenants/:id',
      { schema: { params: TenantParams, body: PlanBody } },
      async (req) => services().tenants.setPlan(callerOf(req), req.params.id, req.body.planId),
    );
  });
}
