import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { IMPORT_TYPES } from '../data/data-rules.js';
import { ROWS_MAX_LIMIT } from '../data/table-service.js';
import type { RouteDeps } from './deps.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200, description: '표 이름 / table name' }) });
const KeyParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }) });
const Page = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ROWS_MAX_LIMIT, default: 50 })),
});
const StorePage = Type.Object({
  prefix: Type.Optional(Type.String({ maxLength: 200, default: '' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ROWS_MAX_LIMIT, default: 50 })),
});
const Values = Type.Record(Type.String(), Type.Unknown(), { description: '{열 이름: 값} / {column: value}' });
const InsertBody = Type.Object({ values: Values }, { additionalProperties: false });
const UpdateBody = Type.Object({ key: Values, values: Values }, { additionalProperties: false });
const DeleteBody = Type.Object({ key: Values }, { additionalProperties: false });
const File = {
  filename: Type.String({ minLength: 1, maxLength: 200, description: '파일 이름: .csv (UTF-8, CP949/EUC-KR) 또는 .xlsx / file name' }),
  content: Type.String({ maxLength: 7_200_000, description: '파일 내용 (base64, 5 MB까지) / the file, base64' }),
};
const PreviewBody = Type.Object(File, { additionalProperties: false });
const ImportBody = Type.Object(
  {
    ...File,
    table: Type.String({ minLength: 1, maxLength: 100, description: '만들거나 채울 표 이름 / the table' }),
    mode: Type.Union([Type.Literal('create'), Type.Literal('replace'), Type.Literal('append')], { description: 'create: 새 표, replace: 행 바꾸기, append: 덧붙이기' }),
    columns: Type.Optional(Type.Array(Type.Object({ name: Type.String(), type: Type.Union(IMPORT_TYPES.map((t) => Type.Literal(t))) }), { maxItems: 100 })),
    primaryKey: Type.Optional(Type.Boolean({ description: 'create: 첫 열을 기본 키로 / first column as primary key' })),
  },
  { additionalProperties: false },
);
const ExportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' })) });
const StoreBody = Type.Object({ value: Type.Unknown({ description: 'JSON 값 / any JSON value' }), ttlSec: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false });

/** An uploaded sheet travels as base64 in JSON: room for 5 MB of file. */
const UPLOAD_BODY_LIMIT = 8 * 1024 * 1024;

type NameReq = { Params: Static<typeof NameParams> };

/**
 * The 데이터 page over the API (issue 15 item 2): the tenant's own tables
 * (rows, add, edit and delete by primary key, import from CSV/XLSX,
 * export) and store keys. Everything scoped to the caller's tenant.
 */
export async function dataRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get('/data/tables', { schema: { summary: '표 목록: 열, 행 수, 크기, 요금제 한도 / the tenant\'s tables and quota' } }, async (req) => services().tables.list(callerOf(req)));
  app.get<NameReq & { Querystring: Static<typeof Page> }>('/data/tables/:name/rows', { schema: { summary: '행 보기 / rows, paged', params: NameParams, querystring: Page } }, async (req) =>
    services().tables.rows(callerOf(req), req.params.name, req.query.offset ?? 0, req.query.limit ?? 50),
  );
  app.post<NameReq & { Body: Static<typeof InsertBody> }>('/data/tables/:name/rows', { schema: { summary: '행 추가 / add a row', params: NameParams, body: InsertBody } }, async (req, reply) =>
    reply.code(201).send(await services().tables.insert(callerOf(req), req.params.name, req.body.values)),
  );
  app.patch<NameReq & { Body: Static<typeof UpdateBody> }>('/data/tables/:name/rows', { schema: { summary: '행 고치기 (기본 키로) / edit a row by primary key', params: NameParams, body: UpdateBody } }, async (req) =>
    services().tables.update(callerOf(req), req.params.name, req.body.key, req.body.values),
  );
  app.delete<NameReq & { Body: Static<typeof DeleteBody> }>('/data/tables/:name/rows', { schema: { summary: '행 지우기 (기본 키로) / delete a row by primary key', params: NameParams, body: DeleteBody } }, async (req) =>
    services().tables.remove(callerOf(req), req.params.name, req.body.key),
  );
  app.get<NameReq & { Querystring: Static<typeof ExportQuery> }>('/data/tables/:name/export', { schema: { summary: 'CSV(UTF-8 BOM) 또는 XLSX로 내려받기 / export', params: NameParams, querystring: ExportQuery } }, async (req, reply) => {
    const xlsx = req.query.format === 'xlsx';
    const body = xlsx ? await services().tables.exportXlsx(callerOf(req), req.params.name) : await services().tables.exportCsv(callerOf(req), req.params.name);
    const file = encodeURIComponent(`${req.params.name}.${xlsx ? 'xlsx' : 'csv'}`);
    return reply
      .header('content-type', xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="export.${xlsx ? 'xlsx' : 'csv'}"; filename*=UTF-8''${file}`)
      .send(body);
  });
  app.post<{ Body: Static<typeof PreviewBody> }>('/data/import/preview', { bodyLimit: UPLOAD_BODY_LIMIT, schema: { summary: '시트 미리보기: 인코딩, 열과 형식 추측, 처음 20행 / sheet preview', body: PreviewBody } }, async (req) => {
    callerOf(req);
    return services().imports.preview(req.body.filename, req.body.content);
  });
  app.post<{ Body: Static<typeof ImportBody> }>('/data/import', { bodyLimit: UPLOAD_BODY_LIMIT, schema: { summary: '시트를 표로 가져오기 (한 트랜잭션, 한도 확인) / import a sheet', body: ImportBody } }, async (req, reply) =>
    reply.code(201).send(await services().imports.import(callerOf(req), req.body)),
  );
  app.get<{ Querystring: Static<typeof StorePage> }>('/data/store', { schema: { summary: 'store 키 목록 / store keys', querystring: StorePage } }, async (req) =>
    services().store.list(callerOf(req), req.query.prefix ?? '', req.query.offset ?? 0, req.query.limit ?? 50),
  );
  app.put<{ Params: Static<typeof KeyParams>; Body: Static<typeof StoreBody> }>('/data/store/:key', { schema: { summary: 'store 키 저장 (요금제 한도 안에서) / set a key', params: KeyParams, body: StoreBody } }, async (req) =>
    services().store.set(callerOf(req), req.params.key, req.body.value, req.body.ttlSec),
  );
  app.delete<{ Params: Static<typeof KeyParams> }>('/data/store/:key', { schema: { summary: 'store 키 지우기 / delete a key', params: KeyParams } }, async (req, reply) => {
    await services().store.remove(callerOf(req), req.params.key);
    return reply.code(204).send();
  });
}
