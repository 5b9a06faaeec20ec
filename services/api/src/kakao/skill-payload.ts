import { Type, type Static } from '@sinclair/typebox';

/**
 * What Kakao i Open Builder POSTs to a skill server (its "SkillPayload",
 * developer guide "응답 타입별 JSON 포맷" > SkillPayload): `intent` (the block
 * that matched), `userRequest` (`utterance`, `user {id, type, properties}`,
 * `callbackUrl` when the block has the callback option, `lang`, `timezone`,
 * `block`), `bot {id, name}` and `action {name, params, detailParams,
 * clientExtra}`. Only what we read is required; Kakao adds fields over time
 * (`contexts`, `flow`, ...), so nothing else is refused.
 *
 * Limits mirror the analyze event's (broker/src/schemas/analyze.ts): the
 * utterance is the message text, the user id its sender, the bot id the
 * room's channel id.
 */
const Named = Type.Object({ id: Type.Optional(Type.String({ maxLength: 200 })), name: Type.Optional(Type.String({ maxLength: 200 })) });

export const SkillPayload = Type.Object({
  intent: Type.Optional(Named),
  userRequest: Type.Object({
    utterance: Type.String({ maxLength: 65000 }),
    user: Type.Object({
      id: Type.String({ minLength: 1, maxLength: 200 }),
      type: Type.Optional(Type.String({ maxLength: 100 })),
      properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
    callbackUrl: Type.Optional(Type.String({ maxLength: 2000 })),
    lang: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Null()])),
    timezone: Type.Optional(Type.String({ maxLength: 100 })),
    block: Type.Optional(Named),
  }),
  bot: Type.Object({
    id: Type.String({ minLength: 1, maxLength: 90 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  action: Type.Optional(
    Type.Object({
      id: Type.Optional(Type.String({ maxLength: 200 })),
      name: Type.Optional(Type.String({ maxLength: 200 })),
      params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      detailParams: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      clientExtra: Type.Optional(Type.Unknown()),
    }),
  ),
});
export type SkillPayload = Static<typeof SkillPayload>;

/** The room a channel's utterances are in: one per Kakao chatbot (a channel has one). */
export const KAKAO_CHANNEL_PREFIX = 'kakao:';
const DEFAULT_ROOM = '카카오톡 채널';
const PARAMS_MAX = 50;
const PARAM_NAME_MAX = 100;
const PARAM_VALUE_MAX = 1000;

/** What of a skill call becomes the analyze event. */
export interface SkillUtterance {
  text: string;
  /** `userRequest.user.id`: the Kakao user (the bot's own user key), the sender. */
  sender: string;
  /** `plusfriendUserKey` when Kakao gives it (the channel-wide key), else null. */
  senderHash: string | null;
  /** `kakao:<bot id>`: the channel as a room of the bot. */
  channelId: string;
  room: string;
  /** Open Builder's resolved parameters (action params, then detailParams values) and the block's name. */
  kakao: { params: Record<string, string>; block: string | null };
  /** Present when the block has Open Builder's callback option: one POST, within a minute. */
  callbackUrl: string | null;
}

export function readSkillPayload(p: SkillPayload): SkillUtterance {
  const plusfriend = p.userRequest.user.properties?.plusfriendUserKey;
  return {
    text: p.userRequest.utterance,
    sender: p.userRequest.user.id,
    senderHash: typeof plusfriend === 'string' && plusfriend !== '' ? plusfriend.slice(0, 200) : null,
    channelId: `${KAKAO_CHANNEL_PREFIX}${p.bot.id}`,
    room: (p.bot.name ?? '').trim().slice(0, 500) || DEFAULT_ROOM,
    kakao: { params: paramsOf(p.action), block: p.userRequest.block?.name ?? p.intent?.name ?? null },
    callbackUrl: p.userRequest.callbackUrl ? p.userRequest.callbackUrl : null,
  };
}

/**
 * `action.params` holds each parameter's value as text; `detailParams` the
 * same with its origin (`{origin, value, groupName}`): a value only there is
 * taken from it. Non-text values (an entity's JSON) are kept as JSON text.
 */
function paramsOf(action: SkillPayload['action']): Record<string, string> {
  const out = new Map<string, string>();
  const put = (name: string, value: unknown) => {
    if (out.has(name) || out.size >= PARAMS_MAX || name.length > PARAM_NAME_MAX) return;
    const text = typeof value === 'string' ? value : value === undefined || value === null ? null : JSON.stringify(value);
    if (text !== null) out.set(name, text.slice(0, PARAM_VALUE_MAX));
  };
  for (const [name, value] of Object.entries(action?.params ?? {})) put(name, value);
  for (const [name, detail] of Object.entries(action?.detailParams ?? {})) {
    if (detail && typeof detail === 'object' && 'value' in detail) put(name, (detail as { value: unknown }).value);
  }
  return Object.fromEntries(out);
}
