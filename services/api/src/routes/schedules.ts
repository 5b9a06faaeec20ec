import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { UuidIdParams, bodyBigintId } from '../http/ids.js';
import { INPUT_MAX_CHARS, MAX_ROOMS_PER_SCHEDULE } from '../schedules/schedule-rules.js';
import type { RouteDeps } from './deps.js';

// Loose bounds here; the service says in Korean what is wrong (unknown phrase, bad cron, a room that is not the tenant's).
const timing = {
  phrase: Type.Optional(Type.String({ maxLength: 200, description: '한국어 일정: 매일 오전 9시, 평일 18시, 주말 오전 10시, 매주 월요일 9시, 30분마다, 매시 정각, 매월 1일 오전 9시 / a Korean phrase' })),
  cron: Type.Optional(Type.String({ maxLength: 200, description: '5칸 cron 식(분 시 일 월 요일), 한국 시간 / a 5-field cron expression read in KST' })),
};
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const Room = Type.Object({ botId: Type.String({ pattern: UUID }), channelId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
const fields = {
  commandId: bodyBigintId({ description: '실행할 명령어 / the command to run' }),
  ...timing,
  rooms: Type.Array(Room, { maxItems: MAX_ROOMS_PER_SCHEDULE * 5, description: '봇이 아는 승인된 방들 (GET /schedules/rooms) / approved rooms of your bots' }),
  input: Type.Optional(Type.String({ maxLength: INPUT_MAX_CHARS * 2, description: '명령어가 받는 입력 문장 (raw_text) / the command\'s raw_text' })),
  enabled: Type.Optional(Type.Boolean()),
};
const CreateBody = Type.Object(fields, { additionalProperties: false });
const PatchBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });
const PreviewBody = Type.Object(timing, { additionalProperties: false });

type IdReq = { Params: Static<typeof UuidIdParams> };

/**
 * Schedules: a command run in KST on a phrase or cron, its reply sent to
 * chosen rooms as `scheduleMessage`. Missed-fire policy in every list and
 * detail (`missedFirePolicy`); the recent fires in the detail.
 */
export async function scheduleRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/schedules', async (req) => services().schedules.list(callerOf(req)));
  app.get('/schedules/rooms', async (req) => services().schedules.roomChoices(callerOf(req)));
  app.post<{ Body: Static<typeof PreviewBody> }>('/schedules/preview', { schema: { body: PreviewBody } }, async (req) => services().schedules.preview(req.body));
  app.post<{ Body: Static<typeof CreateBody> }>('/schedules', { schema: { body: CreateBody } }, async (req, reply) =>
    reply.code(201).send(await services().schedules.create(callerOf(req), req.body)),
  );
  app.get<IdReq>('/schedules/:id', { schema: { params: UuidIdParams } }, async (req) => services().schedules.get(callerOf(req), req.params.id));
  app.patch<IdReq & { Body: Static<typeof PatchBody> }>('/schedules/:id', { schema: { params: UuidIdParams, body: PatchBody } }, async (req) =>
    services().schedules.update(callerOf(req), req.params.id, req.body),
  );
  app.delete<IdReq>('/schedules/:id', { schema: { params: UuidIdParams } }, async (req, reply) => {
    await services().schedules.remove(callerOf(req), req.params.id);
    return reply.code(204).send();
  });
}
