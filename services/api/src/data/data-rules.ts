import { apiErrors } from '../errors.js';

/** The column types an imported sheet can have, and their PostgreSQL types. */
export { IMPORT_COLUMN_TYPES as IMPORT_TYPES, type ImportColumnType as ImportType } from '@domaeka/broker/contracts';
import type { ImportColumnType as ImportType } from '@domaeka/broker/contracts';
export const SQL_TYPE: Record<ImportType, string> = { integer: 'bigint', numeric: 'numeric', text: 'text', date: 'date', boolean: 'boolean' };

const INTEGER = /^[+-]?\d{1,18}$/;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const BOOLEAN = /^(true|false|참|거짓|예|아니오|y|n|yes|no)$/i;

/** The narrowest type every non-empty cell of the column fits (thousands separators read as numbers). */
export function guessType(cells: readonly string[]): ImportType {
  const values = cells.filter((c) => c !== '');
  if (values.length === 0) return 'text';
  const numbers = values.map((v) => v.replace(/,/g, ''));
  if (numbers.every((v) => INTEGER.test(v))) return 'integer';
  if (numbers.every((v) => NUMERIC.test(v))) return 'numeric';
  if (values.every((v) => DATE.test(v) && !Number.isNaN(Date.parse(v)))) return 'date';
  if (values.every((v) => BOOLEAN.test(v))) return 'boolean';
  return 'text';
}

/** A cell's text as the parameter for its column ('' is NULL); null back with a Korean reason when it does not fit. */
export function cellValue(cell: string, type: ImportType): string | null | { error: string } {
  if (cell === '') return null;
  if (type === 'integer' || type === 'numeric') {
    const v = cell.replace(/,/g, '');
    return (type === 'integer' ? INTEGER : NUMERIC).test(v) ? v : { error: `숫자가 아닙니다: "${cell.slice(0, 40)}"` };
  }
  if (type === 'date') return DATE.test(cell) && !Number.isNaN(Date.parse(cell)) ? cell : { error: `날짜(YYYY-MM-DD)가 아닙니다: "${cell.slice(0, 40)}"` };
  if (type === 'boolean') {
    if (!BOOLEAN.test(cell)) return { error: `참/거짓 값이 아닙니다: "${cell.slice(0, 40)}"` };
    return /^(true|참|예|y|yes)$/i.test(cell) ? 'true' : 'false';
  }
  return cell;
}

/** Letters of any script (Korean kept), digits, `_`, spaces and `-` inside; 63 bytes at most (PostgreSQL's NAMEDATALEN). */
const NAME = /^[\p{L}\p{N}_][\p{L}\p{N}_ -]*$/u;

/**
 * A name for a new table or column from an upload: refused (Korean, which
 * name) when it has quotes, dots, control characters, starts with `pg_`,
 * or is too long. It is quoted in SQL anyway; this keeps names a shop
 * owner can type in `db.query("select * from 재고")`.
 */
export function checkNewName(name: string, what: '표' | '열'): string {
  const n = name.trim();
  const en = what === '표' ? 'table' : 'column';
  if (n === '' || !NAME.test(n) || Buffer.byteLength(n, 'utf8') > 63 || /^pg_/i.test(n)) {
    throw apiErrors.validation(
      `${what} 이름 "${n.slice(0, 40)}"은(는) 쓸 수 없습니다: 글자, 숫자, _, 공백, -만 (63바이트까지, pg_로 시작하지 않게) / invalid ${en} name`,
    );
  }
  return n;
}

/** A body's value as a statement parameter: JSON objects and arrays as their JSON text. */
export function paramOf(v: unknown): null | boolean | number | string {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return JSON.stringify(v);
}

/** One CSV field: quoted when it holds a comma, quote or line end (RFC 4180). */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
