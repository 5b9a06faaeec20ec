import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from './envelope.js';

/** The dispatcher finished with an analyze event (transient; HTTP ingress waits on it). */
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
    reply: Type.Union([Type.Object({ type: Type.String(), text: Type.String() }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type DispatchDonePayload = Static<typeof DispatchDonePayload>;
export const DispatchDone = Envelope('dispatch.done', 1, DispatchDonePayload);
export type DispatchDone = Static<typeof DispatchDone>;

/** Management data changed: caches keyed by tenant or bot drop their entries. */
export const ChangedPayload = Type.Object(
  {
    entity: Type.Union([Type.Literal('commands'), Type.Literal('bot'), Type.Literal('device'), Type.Literal('room'), Type.Literal('secrets')]),
    tenantId: Type.Union([Type.String(), Type.Null()]),
    botId: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ChangedPayload = Static<typeof ChangedPayload>;
export const Changed = Envelope('changed', 1, ChangedPayload);
export type Changed = Static<typeof Changed>;
