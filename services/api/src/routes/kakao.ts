import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { callerOf } from '../http/auth.js';
import { clientResolver } from '../http/client.js';
import { UuidIdParams } from '../http/ids.js';
import { SkillPayload } from '../kakao/skill-payload.js';
import { KAKAO_LIMITS } from '../kakao/skill-response.js';
import type { RouteDeps } from './deps.js';

type BotReq = { Params: Static<typeof UuidIdParams> };

/** One simpleText holds the fallback text whole. */
const FallbackBody = Type.Object(
  { fallbackText: Type.Union([Type.String({ maxLength: KAKAO_LIMITS.simpleText }), Type.Null()]) },
  { additionalProperties: false },
);

/**
 * Where Kakao reaches this platform: PUBLIC_URL, else the address the
 * browser used (the web server keeps the Host header; https when this API
 * or a proxy it trusts says so).
 */
function originOf(deps: RouteDeps): (req: FastifyRequest) => string {
  const client = clientResolver(deps.config);
  return (req) => deps.config.publicUrl ?? `${client(req).https ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}`;
}

/** The bot page's "카카오톡 채널" section (`/api/v1`). */
export async function kakaoRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { services } = deps;
  const origin = originOf(deps);
  app.get<BotReq>('/bots/:id/kakao', { schema: { params: UuidIdParams } }, async (req) =>
    services().kakao.channel.view(callerOf(req), req.params.id, origin(req)),
  );
  app.patch<BotReq & { Body: Static<typeof FallbackBody> }>('/bots/:id/kakao', { schema: { params: UuidIdParams, body: FallbackBody } }, async (req) =>
    services().kakao.channel.setFallback(callerOf(req), req.params.id, req.body.fallbackText, origin(req)),
  );
  app.post<BotReq>('/bots/:id/kakao/rotate', { schema: { params: UuidIdParams } }, async (req) =>
    services().kakao.channel.rotate(callerOf(req), req.params.id, origin(req)),
  );
}

/**
 * The skill server, at the root (`POST /kakao/skill/:skillKey`, also through
 * the web origin): no session or API key, the key in the path is the
 * credential. A key no bot has is answered exactly as a path that does not
 * exist, and counted.
 */
export async function kakaoSkillRoutes(app: FastifyInstance, { services }: Pick<RouteDeps, 'services'>): Promise<void> {
  app.post<{ Params: { skillKey: string }; Body: SkillPayload }>('/kakao/skill/:skillKey', { schema: { body: SkillPayload } }, async (req, reply) => {
    const answer = await services().kakao.skill.answer(req.params.skillKey, req.body);
    if (answer === null) return reply.callNotFound();
    return answer;
  });
}
