/**
 * The 데이터 page (issue 15 item 2): the tenant's own tables (its
 * PostgreSQL schema) and its store keys, over `/api/v1/data/*`.
 */

export interface DataColumnView {
  name: string;
  /** PostgreSQL's type name (`text`, `bigint`, `numeric`, `date`...). */
  type: string;
  nullable: boolean;
  primaryKey: boolean;
}

export interface DataTableView {
  name: string;
  columns: DataColumnView[];
  rows: number;
  bytes: number;
}

/** GET /data/tables */
export interface DataTablesView {
  tables: DataTableView[];
  quota: { dbMaxBytes: number; usedBytes: number; dbMaxRows: number };
}

/** GET /data/tables/:name/rows: values JSON-safe (numbers, booleans, text; numeric and dates as text). */
export interface DataRowsView {
  columns: DataColumnView[];
  rows: unknown[][];
  total: number;
  offset: number;
  limit: number;
}

export const IMPORT_COLUMN_TYPES = ['integer', 'numeric', 'text', 'date', 'boolean'] as const;
export type ImportColumnType = (typeof IMPORT_COLUMN_TYPES)[number];

/** POST /data/import/preview */
export interface ImportPreviewView {
  encoding: 'utf-8' | 'utf-8-bom' | 'cp949' | 'xlsx';
  columns: { name: string; type: ImportColumnType }[];
  /** The first 20 data rows, as text. */
  rows: string[][];
  total: number;
}

/** GET /data/store */
export interface StoreKeysView {
  keys: { key: string; value: unknown; bytes: number; expiresAt: string | null; updatedAt: string }[];
  total: number;
  quota: { maxKeys: number; maxBytes: number; usedKeys: number; usedBytes: number };
}
