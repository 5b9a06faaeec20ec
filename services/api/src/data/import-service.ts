import type { Pool } from '@domaeka/core';
import { ensureTenantSchema, quoteIdent, runTenantBatch, tenantTable, type BatchStatement, type ParamValue } from '@domaeka/tenant-data';
import type { ImportPreviewView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import { apiErrors } from '../errors.js';
import type { DataRepository } from './data-repository.js';
import { SQL_TYPE, cellValue, checkNewName, guessType, type ImportType } from './data-rules.js';
import { readSheet, type Sheet } from './sheet-file.js';

export const PREVIEW_ROWS = 20;

export type ImportMode = 'create' | 'replace' | 'append';

export interface ImportRequest {
  filename: string;
  /** The file's bytes, base64. */
  content: string;
  table: string;
  mode: ImportMode;
  /** The preview's columns with the types chosen (same names, same order); missing: the guesses. */
  columns?: { name: string; type: ImportType }[];
  /** `create`: the first column becomes the primary key. */
  primaryKey?: boolean;
}

/**
 * A sheet (CSV in UTF-8 or CP949, or .xlsx) into a tenant table: the
 * preview reads it and guesses each column's type; the import makes or
 * fills the table in one transaction under the tenant's role and quota
 * (runTenantBatch): over the quota, or one bad cell, and nothing changed.
 */
export class ImportService {
  constructor(
    private readonly pool: Pool,
    private readonly repo: DataRepository,
  ) {}

  async preview(filename: string, content: string): Promise<ImportPreviewView> {
    const sheet = await readSheet(filename, decodeBase64(content));
    return {
      encoding: sheet.encoding,
      columns: sheet.headers.map((name, i) => ({ name, type: guessType(sheet.rows.map((r) => r[i]!)) })),
      rows: sheet.rows.slice(0, PREVIEW_ROWS),
      total: sheet.rows.length,
    };
  }

  async import(caller: Caller, req: ImportRequest) {
    const sheet = await readSheet(req.filename, decodeBase64(req.content));
    const name = checkNewName(req.table, '표');
    const types = chosenTypes(sheet, req.columns);
    const headers = sheet.headers.map((h) => checkNewName(h, '열'));
    const schema = await ensureTenantSchema(this.pool, caller.tenantId);
    const limits = (await this.repo.limits(caller.tenantId)).tables;
    const existing = await tenantTable(this.pool, schema, name);
    const q = quoteIdent(name);
    const statements: BatchStatement[] = [];
    if (req.mode === 'create') {
      if (existing) throw apiErrors.tableExists(name);
      const cols = headers.map((h, i) => `${quoteIdent(h)} ${SQL_TYPE[types[i]!]}${i === 0 && req.primaryKey ? ' primary key' : ''}`);
      statements.push({ sql: `create table ${q} (${cols.join(', ')})`, params: [] });
    } else {
      if (!existing) throw apiErrors.tableNotFound(name);
      const known = new Set(existing.columns.map((c) => c.name));
      const missing = headers.find((h) => !known.has(h));
      if (missing) throw apiErrors.validation(`표 "${name}"에 열 "${missing}"이(가) 없습니다 / the table has no column "${missing}"`);
      if (req.mode === 'replace') statements.push({ sql: `delete from ${q}`, params: [] });
    }
    statements.push(...insertStatements(q, headers, types, sheet.rows));
    const outcome = await runTenantBatch(this.pool, schema, statements, limits);
    if (!outcome.ok) throw apiErrors.tenantData(outcome.error);
    return { table: name, mode: req.mode, inserted: sheet.rows.length };
  }
}

function decodeBase64(content: string): Buffer {
  if (typeof content !== 'string' || !/^[A-Za-z0-9+/=\s]*$/.test(content)) throw apiErrors.validation('content는 파일의 base64여야 합니다 / content must be the file in base64');
  return Buffer.from(content, 'base64');
}

function chosenTypes(sheet: Sheet, columns: ImportRequest['columns']): ImportType[] {
  if (!columns) return sheet.headers.map((_, i) => guessType(sheet.rows.map((r) => r[i]!)));
  if (columns.length !== sheet.headers.length || columns.some((c, i) => c.name !== sheet.headers[i])) {
    throw apiErrors.validation('columns가 파일의 머리글과 맞지 않습니다 (미리보기의 이름과 순서대로) / columns must match the file\'s headers, in order');
  }
  return columns.map((c) => c.type);
}

/** Rows per INSERT: each column's values travel as one array parameter (`unnest`), so the SQL stays short. */
const ROWS_PER_INSERT = 2000;

/** INSERT ... SELECT FROM unnest(column arrays); a cell that does not fit its type is a Korean error naming its row and column. */
function insertStatements(q: string, headers: string[], types: ImportType[], rows: string[][]): BatchStatement[] {
  const cols = headers.map(quoteIdent).join(', ');
  const arrays = types.map((t, i) => `$${i + 1}::${SQL_TYPE[t]}[]`).join(', ');
  const out: BatchStatement[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const params: ParamValue[][] = headers.map(() => []);
    chunk.forEach((row, r) =>
      row.forEach((cell, c) => {
        const v = cellValue(cell, types[c]!);
        if (v !== null && typeof v === 'object') {
          throw apiErrors.validation(`${start + r + 2}번째 줄 "${headers[c]}" 열: ${v.error} / row ${start + r + 2}, column "${headers[c]}": does not fit ${types[c]}`);
        }
        params[c]!.push(v);
      }),
    );
    out.push({ sql: `insert into ${q} (${cols}) select * from unnest(${arrays})`, params });
  }
  return out;
}
