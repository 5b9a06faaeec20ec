import { quoteIdent, type BatchStatement, type ParamValue } from '@domaeka/tenant-data';
import { apiErrors } from '../errors.js';
import type { ExportTable } from './backup-format.js';

/**
 * Column types a restored table may have: PostgreSQL's names as the
 * catalog writes them (format_type), nothing else reaches CREATE TABLE.
 */
const COLUMN_TYPE = new RegExp(
  '^(smallint|integer|bigint|real|double precision|numeric(\\(\\d{1,4}(,\\d{1,4})?\\))?|text|character varying(\\(\\d{1,5}\\))?|character(\\(\\d{1,5}\\))?|boolean|date|' +
    'timestamp( without time zone| with time zone)?|time( without time zone| with time zone)?|interval|jsonb|json|uuid)$',
);

const ROWS_PER_INSERT = 2000;

/** CREATE TABLE and its rows (INSERT ... unnest, one array per column) for each table of the file; a wrong type or row is a Korean 400 before anything is written. */
export function tableStatements(tables: readonly ExportTable[]): BatchStatement[] {
  const names = new Set<string>();
  const out: BatchStatement[] = [];
  for (const t of tables) {
    if (names.has(t.name)) throw apiErrors.exportFile(`표 "${t.name}"이(가) 파일에 두 번 있습니다 / table "${t.name}" twice in the file`);
    names.add(t.name);
    const q = quoteIdent(t.name);
    const seen = new Set<string>();
    for (const c of t.columns) {
      if (!COLUMN_TYPE.test(c.type)) throw apiErrors.exportFile(`표 "${t.name}"의 열 "${c.name}": 가져올 수 없는 형식 "${c.type}" / unsupported column type`);
      if (seen.has(c.name)) throw apiErrors.exportFile(`표 "${t.name}"에 열 "${c.name}"이(가) 두 번 있습니다 / duplicate column`);
      seen.add(c.name);
    }
    const pk = t.columns.filter((c) => c.primaryKey).map((c) => quoteIdent(c.name));
    const defs = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.nullable ? '' : ' not null'}`);
    if (pk.length) defs.push(`primary key (${pk.join(', ')})`);
    out.push({ sql: `create table ${q} (${defs.join(', ')})`, params: [] });
    const cols = t.columns.map((c) => quoteIdent(c.name)).join(', ');
    const arrays = t.columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
    const json = t.columns.map((c) => c.type === 'json' || c.type === 'jsonb');
    for (let start = 0; start < t.rows.length; start += ROWS_PER_INSERT) {
      const params: ParamValue[][] = t.columns.map(() => []);
      t.rows.slice(start, start + ROWS_PER_INSERT).forEach((row, r) => {
        if (row.length !== t.columns.length) {
          throw apiErrors.exportFile(`표 "${t.name}" ${start + r + 1}번째 행: 칸이 ${t.columns.length}개여야 합니다 / row ${start + r + 1} must have ${t.columns.length} cells`);
        }
        row.forEach((cell, c) => params[c]!.push(cellIn(cell, json[c]!)));
      });
      out.push({ sql: `insert into ${q} (${cols}) select * from unnest(${arrays})`, params });
    }
  }
  return out;
}

/** The statements that undo a restore's tables (the platform part failed after they were committed). */
export function dropStatements(tables: readonly ExportTable[]): BatchStatement[] {
  return tables.map((t) => ({ sql: `drop table if exists ${quoteIdent(t.name)}`, params: [] }));
}

function cellIn(cell: unknown, json: boolean): ParamValue {
  if (cell === null || cell === undefined) return null;
  if (json) return JSON.stringify(cell);
  if (typeof cell === 'object') return JSON.stringify(cell);
  return cell as ParamValue;
}
