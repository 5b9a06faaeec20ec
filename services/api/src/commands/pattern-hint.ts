import type { CommandHint } from '@domaeka/broker/contracts';
import { splitWords } from '@domaeka/calls';

/** Words quoted back are cut here (a room text may be 65,000 characters). */
const QUOTE_MAX_CHARS = 40;

const quote = (s: string) => (s.length > QUOTE_MAX_CHARS ? `${s.slice(0, QUOTE_MAX_CHARS - 1)}…` : s);

/**
 * Why `text` does not start with `command` (matchCommand said `reason:
 * 'command'`), compared as the dispatcher compares: word by word, in NFKC.
 * The editor words it ("'날씨좀'은 명령어 '날씨'와 다릅니다: 명령어 뒤에
 * 띄어쓰기가 필요합니다"): a shop owner reads "does not start with the
 * command" about `날씨좀 알려줘` and cannot see why.
 */
export function commandHint(command: string, text: string): CommandHint {
  const words = splitWords(command.normalize('NFKC'));
  const tokens = splitWords(text).map((t) => t.normalize('NFKC'));
  if (tokens.length === 0) return { kind: 'empty' };
  let i = 0;
  while (i < words.length && i < tokens.length && tokens[i] === words[i]) i++;
  if (i === tokens.length) return { kind: 'short' };
  const token = tokens[i]!;
  const rest = tokens.slice(i + 1);
  // The remaining command words written as one (`주문조회` for `주문 조회`), maybe with more after them.
  const joined = words.slice(i).join('');
  if (words.length - i > 1 && token.startsWith(joined)) {
    return { kind: 'spacing', word: quote(token), example: quote([...words, token.slice(joined.length), ...rest].filter(Boolean).join(' ')) };
  }
  const word = words[i]!;
  if (token.startsWith(word) && token !== word) {
    return { kind: 'glued', word: quote(token), example: quote([...words.slice(0, i + 1), token.slice(word.length), ...words.slice(i + 1), ...rest].join(' ')) };
  }
  for (let j = 1; j + words.length <= tokens.length; j++) {
    if (words.every((w, k) => tokens[j + k] === w)) return { kind: 'later', first: quote(tokens.slice(0, j).join(' ')) };
  }
  return { kind: 'other', first: quote(tokens[0]!) };
}
