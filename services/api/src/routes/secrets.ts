import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import type { RouteDeps } from './deps.js';

// Loose bounds here; the service says precisely what is wrong (KB_ERR_SECRET_NAME / _VALUE) without echoing the value.
const SetBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    value: Type.String({ maxLength: 16 * 1024 }),
  },
  { additionalProperties: false },
);
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

/** Tenant secrets: the value goes in once and never comes back out. */
export async function secretRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof SetBody> }>('/secrets', { schema: { body: SetBody } }, async (req, reply) => {
    const { view, created } = await services().secrets.set(callerOf(req), req.body.name, req.body.value);
    return reply.code(created ? 201 : 200).send(view);
  });
  app.get('/secrets', async (req) => services().secrets.list(callerOf(req)));
  app.delete<{ Params: Static<typeof NameParams> }>('/secrets/:name', { schema: { params: NameParams } }, async (req, reply) => {
    await services().secrets.remove(callerOf(req), req.params.name);
    return reply.code(204).send();
  });
}
