/**
 * Coded errors shared by services. HTTP status is decided here, once;
 * the room-facing Korean text lives in `roomMessages`.
 */
export class KbError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const roomMessages: Record<string, string> = {
  KB_ERR_TIMEOUT: '명령어 실행 시간이 초과되었습니다.',
  KB_ERR_TARGET_STATUS: '명령어 서버가 오류를 돌려주었습니다. 잠시 후 다시 시도해 주세요.',
  KB_ERR_TARGET_INVALID: '명령어 서버의 응답을 이해할 수 없습니다.',
  KB_ERR_TARGET_TOO_LARGE: '명령어 서버의 응답이 너무 큽니다.',
  KB_ERR_TARGET_UNREACHABLE: '명령어 서버에 연결할 수 없습니다.',
  KB_ERR_EGRESS_DENIED: '허용되지 않은 주소라서 명령어를 실행할 수 없습니다.',
  KB_ERR_QUOTA_EXCEEDED: '일일 실행 횟수를 초과했습니다. 한국 시간 자정 이후에 다시 시도해 주세요.',
  KB_ERR_NO_RUNNER: '명령어 실행기를 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.',
  // A room's reader is a shop's customer: a polite word, never a line number or a traceback (those are the editor's and the logs').
  KB_ERR_USER_EXCEPTION: '죄송합니다. 명령어를 처리하는 중에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.',
  KB_ERR_LINT: '죄송합니다. 이 명령어는 지금 쓸 수 없습니다. 잠시 후 다시 시도해 주세요.',
  KB_ERR_MEMORY_LIMIT: '명령어가 허용된 메모리를 초과했습니다.',
  KB_ERR_OUTPUT_LIMIT: '명령어의 결과가 너무 큽니다.',
  KB_ERR_INVALID_RESULT: '명령어가 올바르지 않은 형식의 결과를 돌려주었습니다.',
  KB_ERR_SANDBOX_CRASHED: '명령어 실행 환경이 비정상적으로 종료되었습니다.',
  KB_ERR_SECRET_MISSING: '명령어에 필요한 비밀 값이 등록되어 있지 않습니다.',
  KB_ERR_SECRET_INVALID: '등록된 비밀 값을 요청 헤더에 쓸 수 없습니다.',
  KB_ERR_RATE_LIMITED: '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
  KB_ERR_BUSY: '지금 이 명령어를 처리하는 요청이 많습니다. 잠시 후 다시 시도해 주세요.',
  KB_ERR_STORAGE_QUOTA: '저장 공간이 가득 찼습니다. 관리자에게 문의해 주세요.',
  KB_ERR_INTERNAL: '명령어 처리 중 오류가 발생했습니다.',
};

export function roomMessageFor(code: string): string {
  return roomMessages[code] ?? roomMessages.KB_ERR_INTERNAL!;
}

/**
 * Failures of the tenant's own code (an exception, a result it may not
 * return, its time or memory used up): what a room sees for them is the
 * tenant's to word (`tenants.error_reply`, set on the account page), the
 * default above otherwise. The platform's own refusals (quota, busy, no
 * runner, ...) keep their texts: they tell the customer when to try again.
 */
export const CODE_ERRORS: ReadonlySet<string> = new Set([
  'KB_ERR_USER_EXCEPTION',
  'KB_ERR_LINT',
  'KB_ERR_INVALID_RESULT',
  'KB_ERR_OUTPUT_LIMIT',
  'KB_ERR_MEMORY_LIMIT',
  'KB_ERR_TIMEOUT',
]);

/** The most characters of a tenant's own error reply (one short chat message). */
export const ERROR_REPLY_MAX_CHARS = 200;

/** The room's text for a failed call: the tenant's own error reply for a code error when it set one, else roomMessageFor(code). */
export function failureReplyFor(code: string, errorReply: string | null | undefined): string {
  return errorReply && CODE_ERRORS.has(code) ? errorReply : roomMessageFor(code);
}
