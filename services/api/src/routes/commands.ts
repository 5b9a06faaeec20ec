import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { CODE_MAX_BYTES, HEADER_VALUE_MAX_CHARS, PATTERN_MAX_CHARS, URL_MAX_CHARS } from '../commands/command-rules.js';
import { HTTP_METHODS } from '@domaeka/broker/contracts';
import { BigintIdParams } from '../http/ids.js';
import { REPLY_TEXT_MAX_CHARS } from '../commands/reply-rules.js';
import type { RouteDeps } from './deps.js';

// Target variants carry no `additionalProperties: false`: with fastify's
// removeAdditional, the first anyOf branch would strip the second one's fields.
const HttpTarget = Type.Object({
  type: Type.Literal('http'),
  url: Type.String({ minLength: 1, maxLength: URL_MAX_CHARS }),
  method: Type.Optional(Type.Union(HTTP_METHODS.map((m) => Type.Literal(m)))),
  headers: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: HEADER_VALUE_MAX_CHARS }))),
});
const SandboxTarget = Type.Object({
  type: Type.Literal('sandbox'),
  language: Type.Literal('python'),
  code: Type.String({ minLength: 1, maxLength: CODE_MAX_BYTES }),
});
// Limits the service checks with Korean words (reply-rules.ts); these only bound the body.
const ReplyTarget = Type.Object({
  type: Type.Literal('reply'),
  text: Type.String({ maxLength: 4 * REPLY_TEXT_MAX_CHARS }),
  imageUrl: Type.Optional(Type.Union([Type.String({ maxLength: URL_MAX_CHARS }), Type.Null()])),
  buttons: Type.Optional(
    Type.Array(Type.Object({ label: Type.String({ maxLength: 200 }), url: Type.String({ maxLength: URL_MAX_CHARS }) }), { maxItems: 20 }),
  ),
});
const Target = Type.Union([HttpTarget, SandboxTarget, ReplyTarget]);

const fields = {
  // Normalised (trim, collapse, <= 50 chars, <= 5 words) by the service; room for raw whitespace here.
  command: Type.String({ minLength: 1, maxLength: 200 }),
  pattern: Type.Optional(Type.Union([Type.String({ maxLength: PATTERN_MAX_CHARS }), Type.Null()])),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
  isActive: Type.Optional(Type.Boolean()),
  target: Target,
};
const CreateBody = Type.Object(fields, { additionalProperties: false });
const PatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });
const IdParams = BigintIdParams;
const RollbackBody = Type.Object({ version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, { additionalProperties: false });

type IdReq = { Params: Static<typeof IdParams> };

/** Commands, their versions and rollback. */
export async function commandRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof CreateBody> }>('/commands', { schema: { body: CreateBody } }, async (req, reply) => {
    return reply.code(201).send(await services().commands.create(callerOf(req), req.body));
  });
  app.get('/commands', async (req) => services().commands.list(callerOf(req)));
  app.get<IdReq>('/commands/:id', { schema: { params: IdParams } }, async (req) =>
    services().commands.get(callerOf(req), req.params.id),
  );
  app.patch<IdReq & { Body: Static<typeof PatchBody> }>(
    '/commands/:id',
    { schema: { params: IdParams, body: PatchBody } },
    async (req) => services().commands.update(callerOf(req), req.params.id, req.body),
  );
  app.delete<IdReq>('/commands/:id', { schema: { params: IdParams } }, async (req, reply) => {
    await services().commands.remove(callerOf(req), req.params.id);
    return reply.code(204).send();
  });
  app.get<IdReq>('/commands/:id/versions', { schema: { params: IdParams } }, async (req) =>
    services().commands.versions(callerOf(req), req.params.id),
  );
  app.post<IdReq & { Body: Static<typeof RollbackBody> }>(
    '/commands/:id/rollback',
    { schema: { params: IdParams, body: RollbackBody } },
    async (req) => services().commands.rollback(callerOf(req), req.params.id, req.body.version),
  );
}
