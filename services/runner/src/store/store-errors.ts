/**
 * The named errors of the store protocol (`/run/kb/data.sock`,
 * services/runner/README.md "Store"). The domaeka module raises each as an
 * exception of its own (sandbox-image/runtime/domaeka/errors.py) with the
 * message as given here: Korean first, English after " / ".
 * `KB_ERR_STORAGE_QUOTA` is also what a run ends in when tenant code does
 * not catch it (a code of `@domaeka/core`'s room messages); the others
 * end a run as the tenant's own exception.
 */
export type StoreErrorCode =
  | 'KB_ERR_STORAGE_QUOTA'
  | 'KB_ERR_STORE_VALUE_TOO_LARGE'
  | 'KB_ERR_STORE_NOT_A_NUMBER'
  | 'KB_ERR_STORE_NO_CALL'
  | 'KB_ERR_STORE_BUDGET'
  | 'KB_ERR_STORE_INVALID'
  | 'KB_ERR_STORE_PROTOCOL'
  | 'KB_ERR_STORE_UNAVAILABLE';

export interface StoreError {
  code: StoreErrorCode;
  message: string;
}

const MiB = 1024 * 1024;

/** `1 MiB`, `100 MiB`, `64 KiB`, `512 B`. */
export function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export const storeErrors = {
  quotaKeys: (max: number): StoreError => ({
    code: 'KB_ERR_STORAGE_QUOTA',
    message: `저장 공간이 가득 찼습니다: 키는 ${max.toLocaleString('en-US')}개까지 저장할 수 있습니다 / storage quota reached: at most ${max} keys`,
  }),
  quotaBytes: (max: number): StoreError => ({
    code: 'KB_ERR_STORAGE_QUOTA',
    message: `저장 공간이 가득 찼습니다: 값은 모두 합쳐 ${sizeText(max)}까지 저장할 수 있습니다 / storage quota reached: at most ${sizeText(max)} of values`,
  }),
  valueTooLarge: (max: number): StoreError => ({
    code: 'KB_ERR_STORE_VALUE_TOO_LARGE',
    message: `값이 너무 큽니다: 하나에 ${sizeText(max)}까지 저장할 수 있습니다 / value too large: at most ${sizeText(max)} each`,
  }),
  notANumber: (key: string): StoreError => ({
    code: 'KB_ERR_STORE_NOT_A_NUMBER',
    message: `'${key.slice(0, 50)}'의 값이 숫자가 아니라서 incr를 쓸 수 없습니다 / the value of '${key.slice(0, 50)}' is not a number`,
  }),
  noCall: (): StoreError => ({
    code: 'KB_ERR_STORE_NO_CALL',
    message: '저장소는 명령어가 실행되는 동안에만 쓸 수 있습니다 / the store can be used only while a call runs',
  }),
  budget: (max: number): StoreError => ({
    code: 'KB_ERR_STORE_BUDGET',
    message: `한 번 실행에 저장소를 ${max.toLocaleString('en-US')}번까지 쓸 수 있습니다 / at most ${max} store calls per run`,
  }),
  invalid: (ko: string, en: string): StoreError => ({ code: 'KB_ERR_STORE_INVALID', message: `${ko} / ${en}` }),
  protocol: (what: string): StoreError => ({ code: 'KB_ERR_STORE_PROTOCOL', message: `저장소 요청 형식이 잘못되었습니다 / malformed store request: ${what}` }),
  unavailable: (why: string): StoreError => ({
    code: 'KB_ERR_STORE_UNAVAILABLE',
    message: `지금은 저장소를 쓸 수 없습니다. 잠시 후 다시 시도해 주세요 / the store is unavailable: ${why}`,
  }),
};
