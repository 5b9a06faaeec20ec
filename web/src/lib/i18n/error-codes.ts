import { t, type Key } from './index';
import { koErrors } from './ko-errors';

/**
 * The one place an error code becomes words: `KB_ERR_USER_EXCEPTION` ->
 * "코드 오류" (labels in ko-errors.ts / en-errors.ts). A code without a
 * label reads "오류"; the code itself stays for a tooltip.
 */
export function errorLabel(code: string): string {
  const key = `code.${code}`;
  return key in koErrors ? t(key as Key) : t('code.unknown');
}
