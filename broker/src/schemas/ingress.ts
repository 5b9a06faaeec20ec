import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

/** The bot signature block, the same fields the phones sign (see hmac.ts). */
export const BotAuth = Type.Object({
  clientType: Type.String({ minLength: 1, maxLength: 100 }),
  botName: Type.String({ minLength: 1, maxLength: 100 }),
  deviceUUID: Type.String({ minLength: 1, maxLength: 200 }),
  macAddress: Type.String({ maxLength: 100 }),
  ipAddress: Type.String({ maxLength: 100 }),
  timestamp: Type.Integer(),
  signature: Type.String({ pattern: '^[0-9a-f]{64}$' }),
});
export type BotAuth = Static<typeof BotAuth>;

/**
 * What an external bot server publishes to the `kb.ingress` exchange
 * (routing key `analyze`). The verifier checks `auth` with the bot's key and
 * salt (5-minute window measured at arrival, each signature once) and then
 * forwards it to the dispatch queue; replies come back on the bot's queue
 * `kb.reply.ext.<botId>`.
 */
export const IngressAnalyzePayload = Type.Object(
  {
    botName: Type.String({ minLength: 1, maxLength: 100 }),
    room: Type.String({ maxLength: 500 }),
    channelId: Type.String({ minLength: 1, maxLength: 100 }),
    sender: Type.String({ maxLength: 200 }),
    senderHash: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    text: Type.String({ maxLength: 65000 }),
    isGroupChat: Type.Optional(Type.Boolean()),
    isMention: Type.Optional(Type.Boolean()),
    logId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
    sentAt: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
    auth: BotAuth,
  },
  { additionalProperties: false },
);
export type IngressAnalyzePayload = Static<typeof IngressAnalyzePayload>;

export const IngressAnalyzeEvent = Envelope('ingress.analyze', 1, IngressAnalyzePayload);
export type IngressAnalyzeEvent = Static<typeof IngressAnalyzeEvent>;
