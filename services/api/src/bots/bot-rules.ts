import { invisibleIn, nameKey, normaliseName } from '@domaeka/core';
import { apiErrors } from '../errors.js';

/**
 * Save-time rules of a bot, pure so they are unit-tested beside the code.
 *
 * Names (issue 13, hole 8): a phone finds its bot by name alone, so names are
 * unique platform-wide on their compared form (`nameKey`: NFKC, case-folded,
 * ... see services/core/src/text/names.ts), and a name nobody could read
 * exactly (zero-width, bidi, control characters) is refused. The name is
 * stored NFKC and trimmed, and that is the name phones must send: the
 * gateway matches it exactly, never a look-alike.
 *
 * Adopted signing pairs (issue 13, hole 7): the key is an HMAC-SHA256 key.
 * RFC 2104 discourages keys shorter than the hash output and NIST SP 800-107
 * wants at least 112 bits of strength; a key typed by hand has far less
 * entropy than its length, so 16 characters is the floor we can ask of
 * phones already in the field (we generate 64 hex characters). The salt is
 * signed with the key, never sent, so it adds to the secret: 8 at least.
 */
export const BOT_NAME_MAX_CHARS = 100;
export const BOT_SECRET_MIN_CHARS = 16;
export const BOT_SALT_MIN_CHARS = 8;

/** The name to store and its key; 400 KB_ERR_VALIDATION (Korean first) for a name that is empty, too long or holds an invisible character. */
export function checkBotName(raw: string): { name: string; key: string } {
  const name = normaliseName(raw);
  if (name === '') throw apiErrors.validation('봇 이름이 비어 있습니다 / the bot name is empty');
  const invisible = invisibleIn(name);
  if (invisible) {
    throw apiErrors.validation(
      `봇 이름에 보이지 않는 문자나 제어 문자(${invisible})는 쓸 수 없습니다 / the bot name holds an invisible, bidi or control character (${invisible})`,
    );
  }
  if ([...name].length > BOT_NAME_MAX_CHARS) {
    throw apiErrors.validation(`봇 이름은 ${BOT_NAME_MAX_CHARS}자까지입니다 / the bot name is longer than ${BOT_NAME_MAX_CHARS} characters`);
  }
  return { name, key: nameKey(name) };
}

/** An adopted key and salt (POST /bots, rotate-secret) long enough to sign with; absent ones are generated. */
export function checkAdoptedPair(secretKey: string | undefined, salt: string | undefined): void {
  if (secretKey !== undefined && [...secretKey].length < BOT_SECRET_MIN_CHARS) {
    throw apiErrors.validation(`비밀 키는 ${BOT_SECRET_MIN_CHARS}자 이상이어야 합니다 / the secret key must be at least ${BOT_SECRET_MIN_CHARS} characters`);
  }
  if (salt !== undefined && [...salt].length < BOT_SALT_MIN_CHARS) {
    throw apiErrors.validation(`솔트는 ${BOT_SALT_MIN_CHARS}자 이상이어야 합니다 / the salt must be at least ${BOT_SALT_MIN_CHARS} characters`);
  }
}
