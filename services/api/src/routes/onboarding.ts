import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import type { RouteDeps } from './deps.js';

const Step = (description: string, extra: Parameters<typeof Type.Object>[0]) =>
  Type.Object({ done: Type.Boolean(), ...extra }, { description, additionalProperties: false });

const Onboarding = Type.Object(
  {
    bot: Step('봇 만들기: 봇이 하나라도 있음 / a bot exists (botId: the oldest)', { botId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]) }),
    command: Step('명령어: 명령어가 하나라도 있음 / a command exists (commandId: the oldest)', { commandId: Type.Union([Type.Integer(), Type.Null()]) }),
    phone: Step('폰 연결: 승인된 폰이 있음 / a phone of a bot is approved (pending: phones awaiting approval; botId: where to approve or look)', {
      pending: Type.Integer({ minimum: 0 }),
      botId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    }),
    reply: Step('첫 답장: 방 호출이 기록됨 / a room call was logged (at: the first one)', { at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) }),
  },
  { description: '첫 사용 안내의 네 단계 / the first-run checklist, each step from the tenant’s data', additionalProperties: false },
);

/** The home page's first-run checklist (onboarding-service.ts). */
export async function onboardingRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/onboarding', { schema: { response: { 200: Onboarding } } }, async (req) => services().onboarding.state(callerOf(req)));
}
