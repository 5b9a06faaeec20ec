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

/** A seed button: `{label, url}` (as long as the answer made them: its size is bounded where it is read). */
export const ReplyButton = Type.Object(
  { label: Type.String(), url: Type.String() },
  { additionalProperties: false },
);

/**
 * The answer as the tenant gave it, before it was flattened for a KakaoTalk
 * room (buttons as `label: url` lines, an image as its bytes): channels that
 * draw buttons and images themselves (the Kakao channel skill) use it. Only
 * on replies of `kakao-skill` events, and only when there is something to
 * draw (buttons, or an image given by URL).
 */
export const ReplyRich = Type.Object(
  {
    /** The text (or caption) without the button lines. */
    text: Type.String(),
    buttons: Type.Array(ReplyButton, { maxItems: 20 }),
    /** The image's URL when the answer gave one (null: none, or Base64). */
    imageUrl: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ReplyRich = Static<typeof ReplyRich>;

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
    rich: Type.Optional(ReplyRich),
    /**
     * `schedule`: sent by a schedule, not in answer to a chat message; the
     * gateway writes it as `scheduleMessage` (same shape as
     * `messageResponse`), an external bot server reads it here. Absent:
     * an answer (`messageResponse`).
     */
    kind: Type.Optional(Type.Literal('schedule')),
  },
  { additionalProperties: false },
);
export type ReplyPayload = Static<typeof ReplyPayload>;

export const ReplyMessage = Envelope('reply', 1, ReplyPayload);
export type ReplyMessage = Static<typeof ReplyMessage>;
