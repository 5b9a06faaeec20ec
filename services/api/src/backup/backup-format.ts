import { Type, type Static, type TProperties } from '@sinclair/typebox';

/**
 * The tenant export file (`GET /export`, `POST /import`): everything a
 * tenant made (commands with their versions, schedules, store keys,
 * tables with their rows, egress domains, the error reply) and the names
 * of its secrets. Never in it: secret values, sealed HTTP header values
 * other than `{{secret:NAME}}` references, bots, devices, rooms, API keys.
 */
export const EXPORT_FORMAT = 'domaeka-tenant-export';
export const EXPORT_VERSION = 1;

/** Every object of the file: no field the format does not name. */
const Obj = <T extends TProperties>(props: T) => Type.Object(props, { additionalProperties: false });
const Str = (max: number) => Type.String({ maxLength: max });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** A header's value: kept only when it is made of `{{secret:NAME}}` references; null = a literal value that stays out of the file (to fill in). */
export const ExportTarget = Type.Union([
  Obj({ type: Type.Literal('sandbox'), language: Type.Literal('python'), code: Str(200_000) }),
  Obj({
    type: Type.Literal('http'),
    url: Str(500),
    method: Str(10),
    headers: Type.Record(Type.String({ maxLength: 200 }), Type.Union([Str(2000), Type.Null()])),
  }),
  Obj({
    type: Type.Literal('reply'),
    text: Str(5000),
    imageUrl: Type.Union([Str(2000), Type.Null()]),
    buttons: Type.Array(Type.Unknown(), { maxItems: 10 }),
  }),
]);

const CommandFields = {
  command: Str(50),
  pattern: Nullable(Str(255)),
  description: Nullable(Str(5000)),
  timeoutMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
  isActive: Type.Boolean(),
  target: ExportTarget,
};

export const ExportVersion = Obj({
  ...CommandFields,
  version: Type.Integer({ minimum: 1 }),
  createdAt: Str(40),
  restoredFrom: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
});

export const ExportCommand = Obj({ ...CommandFields, versions: Type.Array(ExportVersion, { maxItems: 1000 }) });

export const ExportSchedule = Obj({
  command: Str(50),
  cron: Str(200),
  label: Str(200),
  input: Str(2000),
  enabled: Type.Boolean(),
  rooms: Type.Array(Obj({ botName: Str(200), room: Str(200) }), { maxItems: 100 }),
});

export const ExportStoreKey = Obj({ key: Type.String({ minLength: 1, maxLength: 200 }), value: Type.Unknown(), expiresAt: Type.Union([Str(40), Type.Null()]) });

export const ExportTable = Obj({
  name: Type.String({ minLength: 1, maxLength: 63 }),
  columns: Type.Array(Obj({ name: Type.String({ minLength: 1, maxLength: 63 }), type: Str(100), nullable: Type.Boolean(), primaryKey: Type.Boolean() }), {
    minItems: 1,
    maxItems: 100,
  }),
  rows: Type.Array(Type.Array(Type.Unknown(), { maxItems: 100 })),
});

export const ExportFile = Obj({
  format: Type.String({ maxLength: 100, description: `"${EXPORT_FORMAT}"` }),
  version: Type.Integer({ description: `${EXPORT_VERSION}` }),
  exportedAt: Str(40),
  tenant: Obj({ name: Str(200) }),
  commands: Type.Array(ExportCommand, { maxItems: 2000 }),
  schedules: Type.Array(ExportSchedule, { maxItems: 1000 }),
  store: Type.Array(ExportStoreKey, { maxItems: 100_000 }),
  tables: Type.Array(ExportTable, { maxItems: 200 }),
  secrets: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000, description: '비밀 값의 이름만 / secret names only' }),
  egressDomains: Type.Array(Str(255), { maxItems: 1000 }),
  errorReply: Type.Union([Str(200), Type.Null()]),
});

export type ExportFile = Static<typeof ExportFile>;
export type ExportTarget = Static<typeof ExportTarget>;
export type ExportCommand = Static<typeof ExportCommand>;
export type ExportTable = Static<typeof ExportTable>;


/** What may stand beside the references: an auth scheme word, nothing that could be a credential. */
const SCHEME = /^(|bearer|basic|token|bot|key)$/i;

/**
 * A header's value is kept in the file only when it is made of
 * `{{secret:NAME}}` references and at most an auth scheme word
 * (`Bearer {{secret:TOKEN}}`); any other literal may be a credential and
 * stays out (null).
 */
export function isSecretReference(value: string): boolean {
  const refs = /\{\{secret:[A-Z][A-Z0-9_]{0,63}\}\}/g;
  const rest = value.replace(refs, '');
  return rest !== value && SCHEME.test(rest.trim());
}
