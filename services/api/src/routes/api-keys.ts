import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { UuidIdParams } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

const CreateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
const IdParams = UuidIdParams;

/** API keys: the key is in the create answer only. */
export async function apiKeyRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof CreateBody> }>('/api-keys', { schema: { body: CreateBody } }, async (req, reply) => {
    const created = await services().apiKeys.create(callerOf(req), req.body.name);
    return reply.code(201).send(created);
  });

  app.get('/api-keys', async (req) => services().apiKeys.list(callerOf(req)));

  app.delete<{ Params: Static<typeof IdParams> }>('/api-keys/:id', { schema: { params: IdParams } }, async (req, reply) => {
    await services().apiKeys.revoke(callerOf(req), req.params.id);
    return reply.code(204).send();
  });
}
