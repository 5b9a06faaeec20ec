import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { HEADER_VALUE_MAX_CHARS, URL_MAX_CHARS } from '../commands/command-rules.js';
import { HTTP_METHODS } from '@domaeka/broker/contracts';
import { TEST_TEXT_MAX_CHARS } from '../commands/editor-service.js';
import type { RouteDeps } from './deps.js';

const PatternBody = Type.Object(
  {
    // Longer than a saved pattern may be: the service answers KB_ERR_INVALID_PATTERN for those, with the limit.
    pattern: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
    text: Type.String({ maxLength: TEST_TEXT_MAX_CHARS }),
    command: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const Short = Type.String({ maxLength: 2000 });
const HttpTestBody = Type.Object(
  {
    target: Type.Object(
      {
        type: Type.Literal('http'),
        url: Type.String({ minLength: 1, maxLength: URL_MAX_CHARS }),
        method: Type.Optional(Type.Union(HTTP_METHODS.map((m) => Type.Literal(m)))),
        headers: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: HEADER_VALUE_MAX_CHARS }))),
      },
      { additionalProperties: false },
    ),
    input: Type.Optional(
      Type.Object(
        {
          command: Type.Optional(Type.String({ maxLength: 200 })),
          parameters: Type.Optional(Type.Array(Short, { maxItems: 50 })),
          raw_text: Type.Optional(Type.String({ maxLength: TEST_TEXT_MAX_CHARS })),
          sender: Type.Optional(Short),
          room: Type.Optional(Short),
          channel_id: Type.Optional(Short),
        },
        { additionalProperties: false },
      ),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
  },
  { additionalProperties: false },
);

/** The command editor's helpers: try a pattern, make one test call to an HTTP target. */
export async function editorRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof PatternBody> }>('/patterns/test', { schema: { body: PatternBody } }, async (req) => {
    callerOf(req);
    return services().editor.testPattern(req.body);
  });
  app.post<{ Body: Static<typeof HttpTestBody> }>('/commands/test-http', { schema: { body: HttpTestBody } }, async (req) =>
    services().editor.testHttp(callerOf(req), req.body),
  );
}
