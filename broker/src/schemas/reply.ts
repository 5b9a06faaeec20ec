import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

export const ReplyMedia = Type.Object(
  {
    format: Type.String({ maxLength: 10 }),
    /** File bytes, Base64. */
    data: Type.String(),
  },
  { additionalProperties: false },
);

/**
 * What goes back to the room. The envelope id equals the analyze event id,
 * so a receiver can drop a reply it already wrote.
 */
export const ReplyPayload = Type.Object(
  {
    botId: Type.String({ format: 'uuid' }),
    botName: Type.String(),
    room: Type.String(),
    channelId: Type.String(),
    type: Type.Union([Type.Literal('text'), Type.Literal('image')]),
    /** For text: the whole message (buttons already rendered as lines). For media: an optional caption. */
    text: Type.String(),
    media: Type.Array(ReplyMedia, { maxItems: 10 }),
    /** How long the phone waits after handing media to KakaoTalk (ms). */
    mediaWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000 })),
  },
  { additionalProperties: false },
);
export type ReplyPayload = Static<typeof ReplyPayload>;

export const ReplyMessage = Envelope('reply', 1, ReplyPayload);
export type ReplyMessage = Static<typeof ReplyMessage>;
