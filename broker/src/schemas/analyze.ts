import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

/**
 * A chat message that may be a command. Published by the gateway (phones),
 * the API (HTTP ingress, and `kakao-skill`: an utterance on the tenant's
 * official KakaoTalk channel, through Kakao i Open Builder's skill call) and
 * the ingress verifier (external bot servers).
 * The envelope id is the event id: the dispatcher dedupes on it and the
 * reply carries it back as its own id.
 */
export const AnalyzePayload = Type.Object(
  {
    /** `schedule` is never published as an analyze event: the dispatcher gives a schedule fire's run this shape (one source list for logs and the tail). */
    source: Type.Union([Type.Literal('phone'), Type.Literal('http'), Type.Literal('ingress'), Type.Literal('kakao-skill'), Type.Literal('schedule')]),
    botId: Type.String({ format: 'uuid' }),
    botName: Type.String({ minLength: 1, maxLength: 100 }),
    /** devices.id of the phone that relayed it; null for HTTP and external bot servers. */
    deviceId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    /** The phone's own deviceID string (what the operator sees). */
    deviceKey: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    room: Type.String({ maxLength: 500 }),
    channelId: Type.String({ minLength: 1, maxLength: 100 }),
    sender: Type.String({ maxLength: 200 }),
    senderHash: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    text: Type.String({ maxLength: 65000 }),
    isGroupChat: Type.Boolean(),
    isMention: Type.Boolean(),
    /** KakaoTalk's id of the chat message; (bot, channelId, logId) is processed once. */
    logId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
    /** When the phone saw the message (ISO-8601), if it said. */
    sentAt: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
    /** Routing key on the replies exchange, or null when nobody listens (the API's ingresses wait on `dispatch.done` instead). */
    replyRoute: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    /**
     * Set by the gateway on a message it kept while its phone awaited
     * approval and sends on now that the phone is approved: the dispatcher
     * reads the phone's status afresh, not from its cache (the `changed`
     * event that told the gateway may not have reached the dispatcher yet).
     */
    heldForApproval: Type.Optional(Type.Boolean()),
    /**
     * `kakao-skill` only: what Kakao i Open Builder resolved for the block
     * (its action params, and the values of `detailParams` not among them)
     * and the block's name. The target gets them as `metadata.kakao`.
     */
    kakao: Type.Optional(
      Type.Object(
        {
          params: Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }), { maxProperties: 50 }),
          block: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AnalyzePayload = Static<typeof AnalyzePayload>;

export const AnalyzeEvent = Envelope('analyze', 1, AnalyzePayload);
export type AnalyzeEvent = Static<typeof AnalyzeEvent>;
