import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { BRIDGE_SCRIPT_FILE } from '../bots/bridge-script.js';
import type { BridgeAddress, FilledScript } from '../bots/bridge-script-service.js';
import { callerOf } from '../http/auth.js';
import { UuidIdParams } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

/** What `randomBytes(24).toString('base64url')` makes; anything else is a miss without a database look-up. */
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

/** One answer for a token never made, used or expired: it says what to do, never which of the three it was. */
const GONE_TEXT =
  '이 링크는 없거나, 이미 한 번 쓰였거나, 10분이 지나 만료되었습니다. 도매까 웹의 봇 페이지에서 새 QR 코드를 만드세요.\n' +
  'This link does not exist, was already used, or expired. Make a new QR code on the bot page of the Domaeka web app.\n';

const TokenParams = Type.Object({ token: Type.String({ maxLength: 200, description: '링크의 일회용 토큰 / the link token' }) });
const BotReq = UuidIdParams;
const LinkAnswer = Type.Object(
  {
    path: Type.String({ description: '웹 주소에 붙이는 경로 (토큰 포함) / path on the web origin, token included' }),
    expiresAt: Type.String({ format: 'date-time' }),
    ttlSeconds: Type.Integer(),
  },
  { description: '10분 동안 한 번 쓸 수 있는 링크 / a link for one use within 10 minutes' },
);
const ScriptAnswer = { description: '채워진 브리지 스크립트 (JavaScript) / the filled bridge script', type: 'string' } as const;

/**
 * The pre-filled bridge script (issue 16, bots/bridge-script-service.ts):
 * the owner's download, a single-use link for the phone (shown as a QR
 * code), and that link itself. The link is public: its token is the
 * credential. A miss (unknown, used, expired) is a 404 with the same text
 * every time, counted in `kb_api_bridge_link_misses_total` (a burst there
 * is someone guessing; 192-bit tokens make guessing hopeless, the counter
 * makes it visible).
 */
export async function bridgeScriptRoutes(app: FastifyInstance, { services, config, registry }: RouteDeps): Promise<void> {
  const misses = new Counter({
    name: 'kb_api_bridge_link_misses_total',
    help: 'Bridge script links asked for that do not exist, were used or expired',
    registers: registry ? [registry] : [],
  });

  /** The bridge's address for a phone: as configured, else the host this request came to and the port the gateways report. */
  const address = (req: FastifyRequest): BridgeAddress => ({
    host: config.bridgePublicHost ?? req.hostname,
    port: config.bridgePublicPort ?? services().ops.gateways.bridgePort() ?? (config.bridgePort || 1490),
  });

  app.post<{ Params: Static<typeof BotReq> }>(
    '/bots/:id/bridge-script-link',
    {
      schema: {
        summary: '폰용 일회용 스크립트 링크 / a single-use script link for the phone',
        description: '봇의 채워진 브리지 스크립트를 10분 동안 한 번 받을 수 있는 링크를 만듭니다 (봇 페이지의 QR 코드). / Makes a link that hands out the bot\'s pre-filled bridge script once within 10 minutes (the QR code on the bot page).',
        params: BotReq,
        response: { 201: LinkAnswer },
      },
    },
    async (req, reply) => reply.code(201).send(await services().bridgeScripts.createLink(callerOf(req), req.params.id)),
  );

  app.get<{ Params: Static<typeof BotReq> }>(
    '/bots/:id/bridge-script',
    {
      schema: {
        summary: '채워진 브리지 스크립트 내려받기 / download the pre-filled bridge script',
        description: '서버 주소, 포트, 봇 이름, 비밀 키, 솔트가 채워진 domaeka-bridge.js (MessengerBot R). / domaeka-bridge.js for MessengerBot R with server host, port, bot name, key and salt filled in.',
        params: BotReq,
        response: { 200: ScriptAnswer },
      },
    },
    async (req, reply) => sendScript(reply, await services().bridgeScripts.script(callerOf(req), req.params.id, address(req)), 'attachment'),
  );

  app.get<{ Params: Static<typeof TokenParams> }>(
    '/bridge-script/:token',
    {
      config: { public: true },
      // A HEAD (a link preview, a scanner peeking) must not spend the link.
      exposeHeadRoute: false,
      schema: {
        summary: '일회용 링크로 스크립트 받기 (폰) / the script through a single-use link (the phone)',
        description:
          '로그인 없이 토큰으로 받습니다. 한 번 받으면, 또는 10분이 지나면 404입니다 (어느 쪽인지 알려 주지 않음). / No sign-in: the token is the credential. 404 once used or after 10 minutes (without saying which).',
        params: TokenParams,
        response: { 200: ScriptAnswer, 404: { description: '없거나 쓰였거나 만료된 링크 / unknown, used or expired link', type: 'string' } },
      },
    },
    async (req, reply) => {
      const token = req.params.token;
      const filled = TOKEN.test(token) ? await services().bridgeScripts.redeem(token, address(req)) : null;
      if (filled) return sendScript(reply, filled, 'inline');
      misses.inc();
      return reply.code(404).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(GONE_TEXT);
    },
  );
}

/**
 * The script as text, never cached (it holds the bot's key). Inline for the
 * phone (its browser shows it, to select all and copy into the app);
 * an attachment for the desktop download.
 */
function sendScript(reply: FastifyReply, filled: FilledScript, disposition: 'inline' | 'attachment'): FastifyReply {
  return reply
    .header('content-type', 'text/plain; charset=utf-8')
    .header('content-disposition', `${disposition}; filename="${BRIDGE_SCRIPT_FILE}"`)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex')
    .send(filled.script);
}
