import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { CODE_MAX_BYTES } from '../commands/command-rules.js';
import { UuidIdParams, bodyBigintId } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

const Code = Type.String({ minLength: 1, maxLength: CODE_MAX_BYTES });
const LintBody = Type.Object({ code: Code }, { additionalProperties: false });
const RunBody = Type.Object(
  {
    code: Code,
    /** The request dict handed to `handle_command(params)` (`{parameters, sender, room, ...}`); missing fields get defaults. */
    input: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
    commandId: Type.Optional(bodyBigintId()),
  },
  { additionalProperties: false },
);
const RunParams = UuidIdParams;
const RunStarted = Type.Object({ runId: Type.String({ format: 'uuid' }) }, { description: '실행이 시작됨; 결과는 GET /runs/:id 또는 socket.io `run:join` / the run started' });
/**
 * POST /runs refused: the plan's per-minute or at-once test-run limit
 * (KB_ERR_RATE_LIMITED: retryAfterSec, kind, limit) or its daily quota
 * (KB_ERR_QUOTA_EXCEEDED: used, limit, resetsAt). `details` stays open:
 * this schema also serializes the answer.
 */
const RunRefused = Type.Object(
  {
    error: Type.Object({
      code: Type.Union([Type.Literal('KB_ERR_RATE_LIMITED'), Type.Literal('KB_ERR_QUOTA_EXCEEDED')]),
      message: Type.String({ description: 'Korean first, English after " / "' }),
      details: Type.Object(
        {
          retryAfterSec: Type.Optional(Type.Integer({ minimum: 1, description: '다시 실행하기까지 초 (Retry-After 헤더와 같음) / seconds to wait, as the Retry-After header' })),
          kind: Type.Optional(Type.Union([Type.Literal('test_runs_per_minute'), Type.Literal('test_runs_concurrent')])),
          limit: Type.Optional(Type.Integer()),
          used: Type.Optional(Type.Integer()),
          resetsAt: Type.Optional(Type.String()),
        },
        { additionalProperties: true },
      ),
    }),
  },
  { description: '테스트 실행 제한 초과 (1분당, 동시 실행, 일일) / a test-run limit of the plan (per minute, at once, per day)' },
);

/** The editor's lint and ephemeral test runs (DESIGN.md section 3). */
export async function runRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof LintBody> }>('/lint', { schema: { body: LintBody } }, async (req) => ({
    findings: await services().runs.lint(callerOf(req), req.body.code),
  }));
  app.post<{ Body: Static<typeof RunBody> }>('/runs', { schema: { body: RunBody, response: { 202: RunStarted, 429: RunRefused } } }, async (req, reply) =>
    reply.code(202).send(await services().runs.start(callerOf(req), req.body)),
  );
  app.get<{ Params: Static<typeof RunParams> }>('/runs/:id', { schema: { params: RunParams } }, async (req) =>
    services().runs.get(callerOf(req), req.params.id),
  );
  app.post<{ Params: Static<typeof RunParams> }>(
    '/runs/:id/stop',
    {
      schema: {
        params: RunParams,
        summary: '테스트 실행 중지 / stop a test run',
        description:
          '실행을 KB_ERR_RUN_STOPPED 로 끝내고 결과는 버립니다. 샌드박스에서 이미 시작된 코드는 제한 시간이 되면 끝납니다. 이미 끝난 실행은 끝난 그대로 답합니다. / ' +
          'Ends the run as failed with KB_ERR_RUN_STOPPED; a later answer of the runner is discarded. Code already started in the sandbox runs out its time limit there. A run that already ended is answered as it ended.',
      },
    },
    async (req) => services().runs.stop(callerOf(req), req.params.id),
  );
}
