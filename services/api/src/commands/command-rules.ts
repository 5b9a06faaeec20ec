import { invisibleIn, normaliseWords } from '@domaeka/core';
import { compilePattern } from '@domaeka/calls';
import { apiErrors } from '../errors.js';

/**
 * Save-time rules of a command, pure so they are unit-tested beside the
 * code. The dispatcher relies on them: words already normalised, patterns
 * known to compile under RE2 (linear time, no lookaround/backreferences).
 */

export const COMMAND_MAX_CHARS = 50;
export const COMMAND_MAX_WORDS = 5;
export const PATTERN_MAX_CHARS = 255;
export const URL_MAX_CHARS = 500;
export const CODE_MAX_BYTES = 100 * 1024;
export const MAX_HEADERS = 30;
export const HEADER_VALUE_MAX_CHARS = 4096;

/**
 * NFKC, trimmed, inner whitespace collapsed to one space (`normaliseWords`
 * in services/core/src/text/names.ts; the dispatcher compares a room's
 * words in NFKC too); 1..50 characters, 1..5 words. A word nobody could
 * read exactly (zero-width, bidi, control characters) is refused: it would
 * answer a text that looks like another command's (issue 13, hole 8).
 */
export function normaliseCommandWords(raw: string): string {
  const command = normaliseWords(raw);
  const words = command.split(' ').filter(Boolean);
  if (words.length === 0) throw apiErrors.validation('명령어가 비어 있습니다 / command is empty');
  const invisible = invisibleIn(command);
  if (invisible) {
    throw apiErrors.validation(
      `명령어에 보이지 않는 문자나 제어 문자(${invisible})는 쓸 수 없습니다 / the command holds an invisible, bidi or control character (${invisible})`,
    );
  }
  if (words.length > COMMAND_MAX_WORDS) {
    throw apiErrors.validation(`명령어는 ${COMMAND_MAX_WORDS}단어까지입니다 / command has more than ${COMMAND_MAX_WORDS} words`);
  }
  if ([...command].length > COMMAND_MAX_CHARS) {
    throw apiErrors.validation(`명령어는 ${COMMAND_MAX_CHARS}자까지입니다 / command is longer than ${COMMAND_MAX_CHARS} characters`);
  }
  return command;
}

/** null/empty means "no pattern"; anything else must compile under RE2 (400 KB_ERR_INVALID_PATTERN with RE2's words). */
export function checkPattern(pattern: string | null | undefined): string | null {
  if (pattern === null || pattern === undefined || pattern === '') return null;
  if (pattern.length > PATTERN_MAX_CHARS) {
    throw apiErrors.validation(`패턴은 ${PATTERN_MAX_CHARS}자까지입니다 / pattern is longer than ${PATTERN_MAX_CHARS} characters`);
  }
  try {
    // The dispatcher's own compile (flags included), from @domaeka/core.
    compilePattern(pattern);
  } catch (err) {
    throw apiErrors.invalidPattern((err as Error).message);
  }
  return pattern;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the HTTP client sets itself; a tenant value would break or smuggle the request. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive']);

/** Header names are HTTP tokens, values single-line; at most 30. */
export function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw apiErrors.validation(`헤더는 ${MAX_HEADERS}개까지입니다 / at most ${MAX_HEADERS} headers`);
  for (const [name, value] of entries) {
    if (!TOKEN.test(name)) throw apiErrors.validation(`헤더 이름이 올바르지 않습니다 / invalid header name "${name}"`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw apiErrors.validation(`직접 지정할 수 없는 헤더입니다 / header "${name}" is set by the platform`);
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > HEADER_VALUE_MAX_CHARS) {
      throw apiErrors.validation(`헤더 값이 올바르지 않습니다 / invalid value for header "${name}"`);
    }
  }
  return headers;
}

/**
 * Shape of a target URL (the egress policy judges the address separately).
 * Credentials in the URL are refused: the URL is stored and shown in clear,
 * headers are sealed.
 */
export function checkUrlShape(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw apiErrors.validation('URL 형식이 올바르지 않습니다 / not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw apiErrors.validation('http 또는 https 주소만 쓸 수 있습니다 / only http and https URLs');
  }
  if (url.username || url.password) {
    throw apiErrors.validation('URL에 계정 정보를 넣지 말고 헤더를 쓰세요 / put credentials in headers, not in the URL');
  }
  if (raw.length > URL_MAX_CHARS) throw apiErrors.validation(`URL은 ${URL_MAX_CHARS}자까지입니다 / URL too long`);
  return raw;
}

export function checkCode(code: string): string {
  if (Buffer.byteLength(code, 'utf8') > CODE_MAX_BYTES) {
    throw apiErrors.validation('코드는 100KB까지입니다 / code is larger than 100 KB');
  }
  return code;
}

/** What a reader sees of stored headers: names only. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, '********']));
}
