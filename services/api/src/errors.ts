import { KbError } from '@domaeka/core';

/**
 * The API's coded errors, made in one place so a code always carries the
 * same status. Messages are Korean first, English after the slash.
 */
export const apiErrors = {
  unauthenticated: () => new KbError('KB_ERR_UNAUTHENTICATED', '로그인이 필요합니다 / authentication required', 401),
  invalidCredentials: () =>
    new KbError('KB_ERR_INVALID_CREDENTIALS', '이메일 또는 비밀번호가 올바르지 않습니다 / invalid email or password', 401),
  /**
   * A signed-in caller's re-entered password was wrong (the password change):
   * 403, not 401, since the session itself is fine and must not read as ended.
   */
  wrongPassword: () => new KbError('KB_ERR_WRONG_PASSWORD', '현재 비밀번호가 올바르지 않습니다 / the current password is wrong', 403),
  /** What only a person at a signed-in browser may do (not a script with an API key). */
  sessionOnly: () =>
    new KbError('KB_ERR_FORBIDDEN', '이 작업은 브라우저에서 로그인한 상태로만 할 수 있습니다 (API 키로는 안 됩니다) / only a signed-in browser session may do this, not an API key', 403),
  forbidden: (why: string) => new KbError('KB_ERR_FORBIDDEN', `권한이 없습니다 / forbidden: ${why}`, 403),
  notFound: (what: string) => new KbError('KB_ERR_NOT_FOUND', `찾을 수 없습니다 / ${what} not found`, 404),
  validation: (message: string) => new KbError('KB_ERR_VALIDATION', message, 400),
  /** A schedule the API cannot take: an unknown phrase, a bad cron expression, rooms that are not the tenant's approved ones (Korean message). */
  invalidSchedule: (message: string) => new KbError('KB_ERR_INVALID_SCHEDULE', message, 400),
  /** The body could not be read at all (not JSON, not UTF-8): nothing of it was looked at. */
  invalidBody: (message: string) => new KbError('KB_ERR_INVALID_BODY', message, 400),
  emailTaken: () => new KbError('KB_ERR_EMAIL_TAKEN', '이미 가입된 이메일입니다 / email already registered', 409),
  botNameTaken: (name: string) =>
    new KbError('KB_ERR_BOT_NAME_TAKEN', `이미 사용 중인 봇 이름입니다 / bot name "${name}" is taken`, 409),
  invalidPattern: (re2Message: string) =>
    new KbError('KB_ERR_INVALID_PATTERN', `정규식을 RE2로 컴파일할 수 없습니다 / RE2 cannot compile the pattern: ${re2Message}`, 400),
  /** The first finding in the message (Korean first), every finding in `details.findings`. */
  lint: (findings: { message: string; line: number; column: number }[]) =>
    new KbError(
      'KB_ERR_LINT',
      `${findings[0]!.line}번째 줄 ${findings[0]!.column}번째 칸: ${findings[0]!.message}${findings.length > 1 ? ` (외 ${findings.length - 1}건)` : ''}`,
      400,
      { findings },
    ),
  secretName: (message: string) => new KbError('KB_ERR_SECRET_NAME', message, 400),
  secretValue: (message: string) => new KbError('KB_ERR_SECRET_VALUE', message, 400),
  /** An egress allowlist entry the rules refuse; `details.entry` is the entry as sent, so a form can mark it. */
  egressDomain: (message: string, entry: string) => new KbError('KB_ERR_VALIDATION', message, 400, { entry }),
  secretLimit: (max: number) =>
    new KbError('KB_ERR_SECRET_LIMIT', `비밀 값은 ${max}개까지 등록할 수 있습니다 / at most ${max} secrets per tenant`, 409),
  noRunner: (why: string) =>
    new KbError('KB_ERR_NO_RUNNER', `코드 실행기를 사용할 수 없습니다. 잠시 후 다시 시도해 주세요 / no sandbox runner is available: ${why}`, 503),
  /** A daily limit of the plan (KST day) is used up; `details` say which, how many and when it starts over. */
  quotaExceeded: (what: 'test runs', used: number, limit: number, resetsAt: string) =>
    new KbError(
      'KB_ERR_QUOTA_EXCEEDED',
      `일일 테스트 실행 횟수를 초과했습니다 (${limit}회, 한국 시간 자정에 초기화) / daily limit of ${limit} ${what} reached`,
      429,
      { used, limit, resetsAt },
    ),
  /**
   * A plan's limit on editor test runs (per minute, or at once): 429 with
   * `details.retryAfterSec` (also the Retry-After header), `kind` and `limit`.
   */
  testRunsLimited: (kind: 'test_runs_per_minute' | 'test_runs_concurrent', limit: number, retryAfterSec: number) =>
    new KbError(
      'KB_ERR_RATE_LIMITED',
      kind === 'test_runs_per_minute'
        ? `테스트 실행이 너무 잦습니다 (1분에 ${limit}회까지). ${retryAfterSec}초 후에 다시 실행해 주세요 / too many test runs (${limit} a minute), retry in ${retryAfterSec} s`
        : `동시에 실행할 수 있는 테스트는 ${limit}개까지입니다. ${retryAfterSec}초 후에 다시 실행해 주세요 / ${limit} test runs at once at most, retry in ${retryAfterSec} s`,
      429,
      { retryAfterSec, kind, limit },
    ),
  /** Admin: a dead letter already replayed or discarded. */
  deadLetterState: (status: string) =>
    new KbError('KB_ERR_DEAD_LETTER_STATE', `이미 처리된 메시지입니다 (${status}) / dead letter already ${status}`, 409, { status }),
  /** Admin: a dead letter that cannot be published again (why in the message). */
  deadLetterNotReplayable: (why: string) => new KbError('KB_ERR_NOT_REPLAYABLE', `다시 보낼 수 없습니다: ${why}`, 409),
  /** A table of the 데이터 page that is not in the caller's own schema (another tenant's, a catalog's, a typo): always this, never whose. */
  tableNotFound: (name: string) => new KbError('KB_ERR_TABLE_NOT_FOUND', `표를 찾을 수 없습니다: ${name.slice(0, 63)} / table not found`, 404),
  /** Edit and delete find a row by its primary key: a table without one can be read and added to only. */
  tableReadOnly: (name: string) =>
    new KbError('KB_ERR_TABLE_READ_ONLY', `표 "${name.slice(0, 63)}"에는 기본 키가 없어 행을 고치거나 지울 수 없습니다 (보기와 추가만 됩니다) / the table has no primary key: rows can be read and added, not edited or deleted`, 409),
  tableExists: (name: string) =>
    new KbError('KB_ERR_TABLE_EXISTS', `표 "${name.slice(0, 63)}"이(가) 이미 있습니다. 바꾸기(replace)나 덧붙이기(append)를 고르세요 / the table exists: choose replace or append`, 409),
  /** A tenant-data error (@domaeka/tenant-data: quota, a refused statement, a constraint) with its own code and Korean message. */
  tenantData: (error: { code: string; message: string }) =>
    new KbError(error.code, error.message, TENANT_DATA_STATUS[error.code] ?? 400),
  /** `POST /import` goes into an empty account only (no commands, tables or store keys). */
  accountNotEmpty: (what: string) =>
    new KbError('KB_ERR_ACCOUNT_NOT_EMPTY', `가져오기는 빈 계정에만 할 수 있습니다: 이 계정에는 이미 ${what}이(가) 있습니다 / import needs an empty account: this one has ${what}`, 409),
  /** Not a Domaeka export file, or one of a version this API cannot read. */
  exportFile: (message: string) => new KbError('KB_ERR_EXPORT_FILE', message, 400),
  notReady: () => new KbError('KB_ERR_UNAVAILABLE', '서버가 아직 준비되지 않았습니다 / service not ready', 503),
  patternTooLong: (max: number) =>
    new KbError('KB_ERR_INVALID_PATTERN', `패턴은 ${max}자까지입니다 / pattern is longer than ${max} characters`, 400),
  /** A cookie-session request that changes something without `x-csrf-token` equal to the `kb_csrf` cookie. */
  csrf: () =>
    new KbError('KB_ERR_CSRF', '요청 확인 토큰이 없거나 맞지 않습니다. 페이지를 새로 고쳐 주세요 / missing or wrong x-csrf-token header', 403),
  /** A session opened before the CSRF cookie existed: only logging in again gives the browser one. */
  csrfMissingCookie: () =>
    new KbError('KB_ERR_CSRF', '보안 강화로 다시 로그인해야 합니다 / this session has no kb_csrf cookie: log in again', 403),
  /** Too many attempts (logins, signups, test calls); `retryAfterSec` also goes into the Retry-After header. */
  rateLimited: (what: string, retryAfterSec: number) =>
    new KbError(
      'KB_ERR_RATE_LIMITED',
      `시도가 너무 많습니다. ${retryAfterSec}초 후에 다시 시도해 주세요 / too many ${what}, retry in ${retryAfterSec} s`,
      429,
      { retryAfterSec },
    ),
};

const TENANT_DATA_STATUS: Record<string, number> = { KB_ERR_STORAGE_QUOTA: 409, KB_ERR_DB_FORBIDDEN: 403, KB_ERR_DB_TIMEOUT: 504, KB_ERR_DB_UNAVAILABLE: 503 };

/** PostgreSQL unique_violation, as raised by pg and wrapped by MikroORM. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  if (!e || e.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}
