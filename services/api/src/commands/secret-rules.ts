import { apiErrors } from '../errors.js';

/** Environment-variable shaped: what `os.environ` and `{{secret:NAME}}` both take (the migration checks it too). */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
/** A secret is a key or a token, not a file; 4 KiB also keeps every runner call small. */
export const SECRET_VALUE_MAX_BYTES = 4096;
/** Every secret of a tenant travels with each of its sandbox calls: keep the set small. */
export const MAX_SECRETS_PER_TENANT = 50;

/**
 * Names the sandbox's own process relies on (the runtime's `KB_*`, the
 * interpreter's `PYTHON*`, the loader's `LD_*`, locale and paths): a
 * tenant's secret must not change how its interpreter behaves.
 */
const RESERVED_NAMES = new Set(['PATH', 'HOME', 'USER', 'SHELL', 'PWD', 'LANG', 'TZ', 'TMPDIR', 'HOSTNAME']);
const RESERVED_PREFIXES = ['KB_', 'PYTHON', 'LD_', 'LC_'];

export function checkSecretName(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw apiErrors.secretName(
      '비밀 값 이름은 영문 대문자로 시작하고 대문자, 숫자, _ 만 쓸 수 있습니다(64자까지) / a secret name is A-Z first, then A-Z, 0-9 or _ (64 characters at most)',
    );
  }
  if (RESERVED_NAMES.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
    throw apiErrors.secretName(`"${name}"은(는) 플랫폼이 쓰는 이름입니다 / "${name}" is reserved by the platform`);
  }
  return name;
}

/** The value itself never appears in an error message. */
export function checkSecretValue(value: string): string {
  if (value.length === 0) throw apiErrors.secretValue('비밀 값이 비어 있습니다 / the value is empty');
  if (value.includes('\0')) throw apiErrors.secretValue('비밀 값에 NUL 문자를 쓸 수 없습니다 / the value contains a NUL character');
  if (Buffer.byteLength(value, 'utf8') > SECRET_VALUE_MAX_BYTES) {
    throw apiErrors.secretValue(`비밀 값은 ${SECRET_VALUE_MAX_BYTES}바이트까지입니다 / the value is over ${SECRET_VALUE_MAX_BYTES} bytes`);
  }
  return value;
}
