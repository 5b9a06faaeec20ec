import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import type { RouteDeps } from './deps.js';

// A loose bound here (it only caps the work); the service trims and says what is wrong.
const PutBody = Type.Object(
  {
    errorReply: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()], {
      description: '명령어 코드가 실패했을 때 방에 보낼 문장 (200자까지, 비우면 기본 문장) / what a room reads when the code fails (200 characters; empty or null: the default)',
    }),
  },
  { additionalProperties: false },
);

/** The tenant's own words for a room when its command's code fails (issue 16). */
export async function errorReplyRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/error-reply', async (req) => services().errorReply.view(callerOf(req)));
  app.put<{ Body: Static<typeof PutBody> }>('/error-reply', { schema: { body: PutBody } }, async (req) =>
    services().errorReply.set(callerOf(req), req.body.errorReply),
  );
}
