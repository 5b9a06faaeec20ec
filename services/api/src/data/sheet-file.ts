import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { apiErrors } from '../errors.js';

/** An uploaded sheet at most (bytes of the file itself). */
export const SHEET_MAX_BYTES = 5 * 1024 * 1024;
/** Data rows of a sheet at most (the header row not counted). */
export const SHEET_MAX_ROWS = 20_000;
export const SHEET_MAX_COLUMNS = 100;

export type SheetEncoding = 'utf-8' | 'utf-8-bom' | 'cp949' | 'xlsx';

/** A sheet read whole: its header row and its data rows, every cell as text ('' when empty). */
export interface Sheet {
  encoding: SheetEncoding;
  headers: string[];
  rows: string[][];
}

const bad = (ko: string, en: string) => apiErrors.validation(`${ko} / ${en}`);

/** `.csv` (UTF-8 with or without BOM, else CP949/EUC-KR) or `.xlsx` (its first sheet), by the file name. */
export async function readSheet(filename: string, file: Buffer): Promise<Sheet> {
  if (file.length === 0) throw bad('빈 파일입니다', 'the file is empty');
  if (file.length > SHEET_MAX_BYTES) throw bad(`파일은 ${SHEET_MAX_BYTES / 1024 / 1024} MB까지 올릴 수 있습니다`, `the file is over ${SHEET_MAX_BYTES / 1024 / 1024} MB`);
  const lower = filename.toLowerCase();
  let encoding: SheetEncoding;
  let table: string[][];
  if (lower.endsWith('.xlsx')) {
    encoding = 'xlsx';
    table = await readXlsx(file);
  } else if (lower.endsWith('.csv') || lower.endsWith('.txt')) {
    const decoded = decodeText(file);
    encoding = decoded.encoding;
    table = parseCsv(decoded.text);
  } else {
    throw bad('CSV(.csv) 또는 엑셀(.xlsx) 파일만 올릴 수 있습니다', 'only .csv and .xlsx files are read');
  }
  while (table.length > 0 && table.at(-1)!.every((c) => c.trim() === '')) table.pop();
  if (table.length === 0) throw bad('첫 줄(머리글)이 없습니다', 'the sheet has no header row');
  const headers = table[0]!.map((h) => h.trim());
  while (headers.length > 0 && headers.at(-1) === '') headers.pop();
  if (headers.length === 0) throw bad('첫 줄(머리글)이 비어 있습니다', 'the header row is empty');
  if (headers.length > SHEET_MAX_COLUMNS) throw bad(`열은 ${SHEET_MAX_COLUMNS}개까지입니다`, `at most ${SHEET_MAX_COLUMNS} columns`);
  headers.forEach((h, i) => {
    if (h === '') throw bad(`${i + 1}번째 열의 머리글이 비어 있습니다`, `column ${i + 1} has no header`);
    if (headers.indexOf(h) !== i) throw bad(`머리글 "${h}"이(가) 두 번 나옵니다`, `header "${h}" appears twice`);
  });
  const rows = table.slice(1).map((r) => headers.map((_, i) => (r[i] ?? '').trim()));
  if (rows.length > SHEET_MAX_ROWS) throw bad(`행은 ${SHEET_MAX_ROWS.toLocaleString('en-US')}개까지 올릴 수 있습니다`, `at most ${SHEET_MAX_ROWS} rows`);
  return { encoding, headers, rows };
}

/** UTF-8 when the bytes are (BOM or not), else CP949 (EUC-KR's superset: what Korean Excel saves as "CSV"). */
export function decodeText(file: Buffer): { encoding: SheetEncoding; text: string } {
  if (file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf) return { encoding: 'utf-8-bom', text: new TextDecoder('utf-8').decode(file.subarray(3)) };
  try {
    return { encoding: 'utf-8', text: new TextDecoder('utf-8', { fatal: true }).decode(file) };
  } catch {
    const text = iconv.decode(file, 'cp949');
    if (text.includes('\ufffd')) throw bad('파일의 글자 인코딩을 알 수 없습니다 (UTF-8 또는 CP949/EUC-KR이어야 합니다)', 'the file is neither UTF-8 nor CP949/EUC-KR');
    return { encoding: 'cp949', text };
  }
}

/** RFC 4180 CSV: quoted fields with `""` and embedded newlines, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
    if (rows.length > SHEET_MAX_ROWS + 1) throw bad(`행은 ${SHEET_MAX_ROWS.toLocaleString('en-US')}개까지 올릴 수 있습니다`, `at most ${SHEET_MAX_ROWS} rows`);
  }
  if (quoted) throw bad('따옴표(")가 닫히지 않았습니다', 'a quoted field is not closed');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

async function readXlsx(file: Buffer): Promise<string[][]> {
  const book = new ExcelJS.Workbook();
  try {
    await book.xlsx.load(file as unknown as ArrayBuffer);
  } catch {
    throw bad('엑셀 파일을 읽을 수 없습니다 (.xlsx 형식이어야 합니다)', 'the file is not a readable .xlsx workbook');
  }
  const sheet = book.worksheets[0];
  if (!sheet) throw bad('엑셀 파일에 시트가 없습니다', 'the workbook has no sheet');
  if (sheet.rowCount > SHEET_MAX_ROWS + 1) throw bad(`행은 ${SHEET_MAX_ROWS.toLocaleString('en-US')}개까지 올릴 수 있습니다`, `at most ${SHEET_MAX_ROWS} rows`);
  const out: string[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row, n) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => {
      cells[col - 1] = cellText(cell.value);
    });
    out[n - 1] = Array.from(cells, (c) => c ?? '');
  });
  return Array.from(out, (r) => r ?? []);
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    return '';
  }
  return String(v);
}
