/**
 * The named errors of tenant tables (`from domaeka import db`): Korean
 * first, English after " / ". The runner answers them over the data socket
 * and the domaeka module raises each as its own exception
 * (sandbox-image/runtime/domaeka/errors.py); the API's 데이터 page will
 * show the same. `KB_ERR_STORAGE_QUOTA` is the store's quota error: a run
 * that does not catch it ends with that code (the room hears "저장 공간이
 * 가득 찼습니다...").
 */
export type TenantDataErrorCode =
  | 'KB_ERR_DB_FORBIDDEN'
  | 'KB_ERR_DB_SYNTAX'
  | 'KB_ERR_DB_STATEMENT'
  | 'KB_ERR_DB_TIMEOUT'
  | 'KB_ERR_DB_TOO_MANY_ROWS'
  | 'KB_ERR_DB_INVALID'
  | 'KB_ERR_STORAGE_QUOTA'
  | 'KB_ERR_DB_UNAVAILABLE';

export interface TenantDataError {
  code: TenantDataErrorCode;
  message: string;
}

const MiB = 1024 * 1024;

function size(bytes: number): string {
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

export const tenantDataErrors = {
  forbidden: (ko: string, en: string): TenantDataError => ({ code: 'KB_ERR_DB_FORBIDDEN', message: `이 SQL은 쓸 수 없습니다: ${ko} / not allowed: ${en}` }),
  syntax: (detail: string): TenantDataError => ({ code: 'KB_ERR_DB_SYNTAX', message: `SQL 문법 오류입니다: ${detail} / syntax error: ${detail}` }),
  statement: (detail: string): TenantDataError => ({ code: 'KB_ERR_DB_STATEMENT', message: `SQL을 실행하지 못했습니다: ${detail} / statement failed: ${detail}` }),
  timeout: (ms: number): TenantDataError => ({
    code: 'KB_ERR_DB_TIMEOUT',
    message: `SQL이 ${ms.toLocaleString('en-US')}ms 안에 끝나지 않아 멈췄습니다. 바뀐 것은 없습니다 / statement timed out after ${ms} ms; nothing was changed`,
  }),
  tooManyRows: (max: number): TenantDataError => ({
    code: 'KB_ERR_DB_TOO_MANY_ROWS',
    message: `결과가 ${max.toLocaleString('en-US')}행을 넘습니다. LIMIT나 조건으로 줄여 주세요. 바뀐 것은 없습니다 / more than ${max} result rows: add a LIMIT or a condition; nothing was changed`,
  }),
  resultTooLarge: (bytes: number): TenantDataError => ({
    code: 'KB_ERR_DB_TOO_MANY_ROWS',
    message: `결과가 ${size(bytes)}를 넘습니다. 열이나 행을 줄여 주세요. 바뀐 것은 없습니다 / result over ${size(bytes)}: select fewer columns or rows; nothing was changed`,
  }),
  invalid: (ko: string, en: string): TenantDataError => ({ code: 'KB_ERR_DB_INVALID', message: `${ko} / ${en}` }),
  quota: (maxBytes: number): TenantDataError => ({
    code: 'KB_ERR_STORAGE_QUOTA',
    message: `저장 공간이 가득 찼습니다: 표는 모두 합쳐 ${size(maxBytes)}까지 저장할 수 있습니다. 이번 변경은 저장되지 않았습니다 / storage quota reached: at most ${size(maxBytes)} of tables; this change was not stored`,
  }),
  unavailable: (why: string): TenantDataError => ({
    code: 'KB_ERR_DB_UNAVAILABLE',
    message: `지금은 데이터베이스를 쓸 수 없습니다. 잠시 후 다시 시도해 주세요 / the database is unavailable: ${why}`,
  }),
};
