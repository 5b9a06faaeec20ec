import { dictionary } from '@zxcvbn-ts/language-common';
import { apiErrors } from '../errors.js';

/**
 * The password rules, after NIST SP 800-63B section 5.1.1.2 (and OWASP ASVS
 * V2.1): a minimum length (8, checked by the route schema, kept from before),
 * no composition rules, but a password is refused when it is on a list of
 * commonly used or breached passwords, repetitive, or context-specific
 * (the account's email, the service's name). The list is zxcvbn-ts's
 * common-password dictionary (~49,000 entries from breach corpora, the
 * maintained `@zxcvbn-ts/language-common` package), loaded once.
 */
const COMMON = new Set(dictionary['passwords-common']);
/** Separators people dress a common password in: `Qwerty-123` is `qwerty123`. */
const SEPARATORS = /[\s._\-!@#$%^&*+=~'"`,;:/\\|()[\]{}<>?]/g;
/** Fewer distinct characters than this is repetition (`aaaaaaaa`, `abababab`, `12121212`). */
const MIN_DISTINCT = 4;
/** Words of this service a password must not be built on. */
const SERVICE_WORDS = ['domaeka', '도매까'];

/** Letters people write as digits or symbols (`P@ssw0rd`): both readings of `1`. */
const LEET: Record<string, string> = { '@': 'a', $: 's', '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't' };

/** The password as typed, without separators, without trailing digits (`sunshine2026`), and with leet read back. */
function commonForms(lower: string): string[] {
  const bare = lower.replace(/[@$]/g, (c) => LEET[c]!).replace(SEPARATORS, '');
  const stem = bare.replace(/\d+$/, '');
  const read = stem.replace(/[03457]/g, (c) => LEET[c] ?? c);
  const forms = [lower, bare];
  // A short stem (`ab` of `ab839201`) is no word.
  if (stem.length >= 4) forms.push(stem, read.replace(/1/g, 'l'), read.replace(/1/g, 'i'));
  return forms;
}

/** Why a password is refused (Korean first), or null when it is acceptable. */
export function passwordProblem(password: string, email: string): string | null {
  const lower = password.toLowerCase();
  if (new Set(lower).size < MIN_DISTINCT) {
    return `비밀번호에 같은 문자가 너무 많이 반복됩니다. 서로 다른 문자를 ${MIN_DISTINCT}개 이상 써 주세요 / too repetitive`;
  }
  const bare = lower.replace(SEPARATORS, '');
  if (commonForms(lower).some((form) => COMMON.has(form))) {
    return '너무 흔한 비밀번호입니다. 남이 짐작하기 어려운 문장이나 단어 조합을 써 주세요 / a commonly used password';
  }
  const local = email.trim().toLowerCase().split('@')[0] ?? '';
  const words = [...SERVICE_WORDS, ...(local.length >= 4 ? [local, local.replace(SEPARATORS, '')] : [])];
  if (words.some((w) => w.length >= 4 && (lower.includes(w) || bare.includes(w)))) {
    return '비밀번호에 이메일 주소나 서비스 이름을 넣지 마세요 / contains the email or the service name';
  }
  return null;
}

/** Throws 400 KB_ERR_VALIDATION with the reason when the password breaks the rules. */
export function checkPassword(password: string, email: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw apiErrors.validation(problem);
}
