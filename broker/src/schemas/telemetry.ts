import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';
import { ReplyRich } from './reply.js';

/**
 * One finished room call, for the tenant's live tail (the API forwards it to
 * the tenant's socket.io room): the `call` of the event's `dispatch.done`.
 * Internal telemetry: it carries the chat text and sender, never secrets.
 */
export const CallLogPayload = Type.Object(
  {
    eventId: Type.String(),
    tenantId: Type.String(),
    botId: Type.String(),
    commandId: Type.String(),
    command: Type.String(),
    room: Type.String(),
    channelId: Type.String(),
    sender: Type.String(),
    text: Type.String({ maxLength: 65000 }),
    parameters: Type.Array(Type.String()),
    reply: Type.Union([Type.Object({ type: Type.String(), text: Type.String() }), Type.Null()]),
    errorCode: Type.Union([Type.String(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    responseTimeMs: Type.Number({ minimum: 0 }),
    /** Where the message came from (the analyze event's `source`); absent from dispatchers older than the Kakao channel. */
    source: Type.Optional(Type.String({ maxLength: 20 })),
    /** Epoch ms when the dispatcher finished the call. */
    at: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type CallLogPayload = Static<typeof CallLogPayload>;
/**
 * The dispatcher finished with an analyze event or a schedule fire
 * (transient): the API's ingresses wait on it, and when a command ran,
 * `call` is that room call for the tenant's live tail. One notice per
 * event, routed by source and tenant (`routingKeys.dispatchDone`), so each
 * listener binds only what it wants (issue 19: one telemetry message per
 * room call instead of two).
 */
export const DispatchDonePayload = Type.Object(
  {
    eventId: Type.String(),
    tenantId: Type.Union([Type.String(), Type.Null()]),
    botId: Type.String(),
    status: Type.Union([
      Type.Literal('replied'),
      Type.Literal('no_match'),
      Type.Literal('ignored'),
      Type.Literal('duplicate'),
    ]),
    /** `rich`: only for `kakao-skill` events (see ReplyRich). */
    reply: Type.Union([Type.Object({ type: Type.String(), text: Type.String(), rich: Type.Optional(ReplyRich) }), Type.Null()]),
    /** The room call this event made, if any (what the live tail shows). */
    call: Type.Optional(CallLogPayload),
  },
  { additionalProperties: false },
);
export type DispatchDonePayload = Static<typeof DispatchDonePayload>;
export const DispatchDone = Envelope('dispatch.done', 1, DispatchDonePayload);
export type DispatchDone = Static<typeof DispatchDone>;

/** Management data changed: caches keyed by tenant or bot drop their entries. */
export const ChangedPayload = Type.Object(
  {
    entity: Type.Union([Type.Literal('commands'), Type.Literal('bot'), Type.Literal('device'), Type.Literal('room'), Type.Literal('secrets'), Type.Literal('egress')]),
    tenantId: Type.Union([Type.String(), Type.Null()]),
    botId: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ChangedPayload = Static<typeof ChangedPayload>;
export const Changed = Envelope('changed', 1, ChangedPayload);
export type Changed = Static<typeof Changed>;

/**
 * Credentials ended (API -> every API process): the live sockets they
 * opened must go. `logout`, `password_changed` and `api_key_revoked` name
 * the user whose sockets each process re-authenticates (the database says
 * which credentials still hold, so no credential travels here);
 * `bot_deleted` names the bot whose live tails end. Key `access.revoked`.
 */
export const AccessRevokedPayload = Type.Object(
  {
    reason: Type.Union([Type.Literal('logout'), Type.Literal('password_changed'), Type.Literal('api_key_revoked'), Type.Literal('bot_deleted')]),
    tenantId: Type.String(),
    userId: Type.Union([Type.String(), Type.Null()]),
    botId: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AccessRevokedPayload = Static<typeof AccessRevokedPayload>;
export const AccessRevoked = Envelope('access.revoked', 1, AccessRevokedPayload);
export type AccessRevoked = Static<typeof AccessRevoked>;

