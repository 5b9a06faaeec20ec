import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import type { RouteDeps } from './deps.js';

// Loose bounds here (they only cap the work); the service names the entry that is wrong and says why, and caps the list at 50.
const PutBody = Type.Object(
  {
    domains: Type.Array(Type.String({ maxLength: 300 }), {
      maxItems: 500,
      description: '정확한 호스트 이름(api.example.com) 또는 그 아래 이름 전부(*.example.com), 50개까지 / exact host names or *.example.com, at most 50',
    }),
  },
  { additionalProperties: false },
);

/** The tenant's egress domain allowlist: which names its sandbox code may reach on a plan with network. */
export async function egressRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/egress', async (req) => services().egress.view(callerOf(req)));
  app.put<{ Body: Static<typeof PutBody> }>('/egress', { schema: { body: PutBody } }, async (req) =>
    services().egress.replace(callerOf(req), req.body.domains),
  );
}
