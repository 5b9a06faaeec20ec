import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Every message on the broker is wrapped in this envelope. `id` is a UUIDv7. */
export const Envelope = <T extends TSchema>(type: string, version: number, payload: T) =>
  Type.Object(
    {
      id: Type.String({ format: 'uuid', maxLength: 36 }),
      type: Type.Literal(type),
      version: Type.Literal(version),
      occurredAt: Type.String({ maxLength: 40 }),
      payload,
    },
    { $id: `${type}.v${version}`, additionalProperties: false },
  );

export type EnvelopeOf<P> = {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  payload: P;
};

export const EnvelopeHeader = Type.Object({
  id: Type.String(),
  type: Type.String(),
  version: Type.Number(),
});
export type EnvelopeHeader = Static<typeof EnvelopeHeader>;
