import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { CODE_MAX_BYTES } from '../services/command-rules.js';
import type { RouteDeps } from './deps.js';

const Code = Type.String({ minLength: 1, maxLength: CODE_MAX_BYTES });
const LintBody = Type.Object({ code: Code }, { additionalProperties: false });
const RunBody = Type.Object(
  {
    code: Code,
    /** The request dict handed to `handle_command(params)` (`{parameters, sender, room, ...}`); missing fields get defaults. */
    input: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
    commandId: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
const RunParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** The editor's lint and ephemeral test runs (DESIGN.md section 3). */
export async function runRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof LintBody> }>('/lint', { schema: { body: LintBody } }, async (req) => ({
    findings: await services().runs.lint(callerOf(req), req.body.code),
  }));
  app.post<{ Body: Static<typeof RunBody> }>('/runs', { schema: { body: RunBody } }, async (req, reply) =>
    reply.code(202).send(await services().runs.start(callerOf(req), req.body)),
  );
  app.get<{ Params: Static<typeof RunParams> }>('/runs/:id', { schema: { params: RunParams } }, async (req) =>
    services().runs.get(callerOf(req), req.params.id),
  );
}
