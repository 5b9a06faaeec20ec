/**
 * Korean particles after a quoted word: 은/는, 이/가, 와/과, (으)로 depend on
 * whether its last syllable ends in a consonant (받침). A word that does not
 * end in Hangul gets both forms ("은(는)"), as Korean writing does.
 */
type Pair = readonly [withFinal: string, withoutFinal: string];

const PAIRS = { eun: ['은', '는'], ga: ['이', '가'], wa: ['과', '와'], ro: ['으로', '로'] } as const satisfies Record<string, Pair>;

function finalOf(word: string): number | null {
  const last = word.trim().at(-1);
  if (!last) return null;
  const code = last.charCodeAt(0) - 0xac00;
  if (code < 0 || code > 11171) return null;
  return code % 28;
}

export function josa(word: string, kind: keyof typeof PAIRS): string {
  const [withFinal, withoutFinal] = PAIRS[kind];
  const final = finalOf(word);
  if (final === null) return kind === 'ro' ? '(으)로' : `${withFinal}(${withoutFinal})`;
  // ㄹ (8) takes 로, not 으로: "서울로".
  if (kind === 'ro') return final === 0 || final === 8 ? withoutFinal : withFinal;
  return final === 0 ? withoutFinal : withFinal;
}
