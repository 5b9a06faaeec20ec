import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';

/** Where the browsable page lives; under `/api` so the web server's proxy shows it on the web origin too. */
export const DOCS_PREFIX = '/api/docs';

/** Korean titles of the route groups (the first path segment after `/api/v1`). */
const TAGS: Record<string, string> = {
  auth: '계정 / accounts and sessions',
  me: '계정 / accounts and sessions',
  'api-keys': 'API 키 / API keys',
  bots: '봇과 기기 / bots, devices, rooms',
  commands: '명령어 / commands and versions',
  patterns: '편집기 도구 / editor helpers',
  lint: '편집기 도구 / editor helpers',
  runs: '테스트 실행 / test runs',
  templates: '템플릿 / templates',
  messages: 'HTTP 수신 / HTTP ingress',
  logs: '로그 / call logs',
  stats: '통계 / statistics',
  usage: '사용량 / plans and usage',
  platform: '봇 연결 정보 / how phones reach the platform',
  secrets: '비밀 값 / tenant secrets',
  egress: '외부 접속 도메인 / sandbox egress allowlist',
  'error-reply': '오류 안내 문장 / what a room reads when the code fails',
  admin: '운영 / operations (admins)',
  onboarding: '첫 사용 안내 / first-run checklist',
  schedules: '예약 실행 / schedules (KST)',
  data: '데이터 / tenant tables and store keys',
  export: '백업 / tenant export file',
  import: '백업 / tenant export file',
};

const ErrorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'KB_ERR_* (see the API README)' },
        message: { type: 'string', description: 'Korean first, English after " / "' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

/**
 * The OpenAPI document, generated from the same TypeBox schemas fastify
 * validates with (nothing is written twice), and a page to browse it at
 * `/api/docs` (the JSON at `/api/docs/json`). Must be registered before the
 * routes: it collects them as they are added.
 */
export function registerOpenApi(app: FastifyInstance, prefix: string): void {
  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Domaeka API',
        version: '1',
        description:
          '카카오톡 봇 명령어 플랫폼 관리 API. 브라우저는 세션 쿠키(+ 변경 요청에 `x-csrf-token` 헤더), 스크립트는 `Authorization: Bearer <API 키>`를 씁니다. / ' +
          'Management API of the Domaeka platform. Browsers use the session cookie (plus the `x-csrf-token` header on changes); scripts use a bearer API key.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'kb_session' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'kb_... (POST /api-keys)' },
        },
      },
    },
    // Only the public API; /healthz, /readyz and /metrics are for operators and scrapers.
    hiddenTag: 'internal',
    transform: ({ schema, url, route }) => {
      const path = url.startsWith(prefix) ? url.slice(prefix.length) : null;
      if (path === null) return { schema: { ...schema, hide: true }, url };
      const group = path.split('/')[1] ?? '';
      const security: Record<string, string[]>[] =
        route.config?.public === true ? [] : route.config?.sessionOnly === true ? [{ session: [] }] : [{ session: [] }, { apiKey: [] }];
      const documented: FastifySchema = {
        ...schema,
        tags: [TAGS[group] ?? group],
        security,
        // A route's own answers (e.g. POST /runs: 202 and its 429s) first; every other error is the common body.
        response: documentedResponses(schema?.response as Record<string, Record<string, unknown>> | undefined),
      };
      return { url, schema: documented };
    },
  });
  app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { docExpansion: 'list', deepLinking: true },
    staticCSP: true,
  });
}

/**
 * The answers a route documents, plus the common error body for every
 * other 4xx/5xx. A 429 says when to come back in `Retry-After` (seconds,
 * as `error.details.retryAfterSec`): added to the document only, since a
 * response schema is also what fastify serializes with.
 */
function documentedResponses(own: Record<string, Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { '4XX': { description: '오류 / error', ...ErrorBody }, '5XX': { description: '오류 / error', ...ErrorBody } };
  for (const [status, body] of Object.entries(own ?? {})) {
    out[status] =
      status === '429'
        ? { ...body, headers: { 'Retry-After': { type: 'integer', description: '다시 시도하기까지 초 / seconds to wait before trying again' } } }
        : body;
  }
  return out;
}
