import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { uuidId } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

// Limits mirror the analyze event schema (broker/src/schemas/analyze.ts).
const MessageBody = Type.Object(
  {
    botName: Type.String({ minLength: 1, maxLength: 100 }),
    room: Type.String({ minLength: 1, maxLength: 500 }),
    channelId: Type.String({ minLength: 1, maxLength: 100 }),
    sender: Type.String({ minLength: 1, maxLength: 200 }),
    senderHash: Type.Optional(Type.String({ maxLength: 200 })),
    text: Type.String({ minLength: 1, maxLength: 65000 }),
    isGroupChat: Type.Optional(Type.Boolean()),
    messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
const MessageQuery = Type.Object({
  wait: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')])),
});
const EventParams = Type.Object({ eventId: uuidId() });

/** HTTP ingress: post a chat message as if a phone relayed it; optionally wait for the answer. */
export async function messageRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof MessageBody>; Querystring: Static<typeof MessageQuery> }>(
    '/messages',
    // NUL or a lone surrogate may be in relayed chat: the service refuses an identifier with one by name, replaces it in text.
    { schema: { body: MessageBody, querystring: MessageQuery }, config: { checksUnstorable: true } },
    async (req, reply) => {
      const wait = req.query.wait === '1' || req.query.wait === 'true';
      const { eventId, outcome } = await services().messages.submit(callerOf(req), req.body, wait);
      if (outcome) return reply.code(200).send({ eventId, status: outcome.status, reply: outcome.reply });
      return reply.code(202).send({ eventId });
    },
  );

  app.get<{ Params: Static<typeof EventParams> }>('/messages/:eventId', { schema: { params: EventParams } }, async (req) =>
    services().messages.outcome(callerOf(req), req.params.eventId),
  );
}
