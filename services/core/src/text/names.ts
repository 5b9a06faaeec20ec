/**
 * Names people tell apart by eye: bot names (a phone finds its bot by name
 * alone, so they are unique platform-wide) and command words (what a room
 * types). Issue 13, hole 8: `SECA-BOT-1`, `secA-bot-1 ` and
 * `secA-bot-1<U+200B>` were registered beside `secA-bot-1`, and command
 * words held zero-width and bidi-override characters.
 *
 * Followed: RFC 8264/8265 (PRECIS) and Unicode UTS #39 for identifiers.
 * - Width and compatibility forms are mapped with NFKC (PRECIS maps width,
 *   UTS #39 compares NFKC forms): `ｓｅｃＡ` is `secA`.
 * - Characters nobody sees are refused, not stripped (PRECIS disallows
 *   controls and default-ignorables): controls (Cc), format characters
 *   (Cf: zero-width U+200B-U+200F, U+2060-U+2064, U+FEFF, the bidi
 *   embeddings/overrides U+202A-U+202E and isolates U+2066-U+2069, the soft
 *   hyphen...), other default-ignorables (Hangul fillers U+3164/U+FFA0,
 *   variation selectors, U+034F), private use, line/paragraph separators.
 *   Emoji keep working: a variation selector right after an emoji and a
 *   zero-width joiner between two emoji (UTS #51 sequences) are allowed.
 * - Uniqueness is decided on a key (PRECIS "UsernameCaseMapped" for
 *   comparison, GitHub's case-insensitive logins): NFKC, case-folded,
 *   whitespace runs as one space, trimmed. The name itself keeps its case.
 * Not covered: cross-script confusables (Cyrillic `а` for Latin `a`), which
 * need UTS #39's confusables table.
 */

/** What no name may hold (see above). */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');
/** Emoji presentation selectors and joiners inside emoji sequences: visible as part of the emoji. */
const EMOJI_GLUE = /(?<=[\p{Extended_Pictographic}0-9#*])[\uFE0E\uFE0F]|(?<=\p{Extended_Pictographic}(?:\uFE0F|[\u{1F3FB}-\u{1F3FF}])?)\u200D(?=\p{Extended_Pictographic})/gu;
// Unicode White_Space, not JavaScript's \s (which counts U+FEFF, an invisible character to refuse, not trim).
const WHITESPACE_RUN = /\p{White_Space}+/gu;
const EDGE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;

/** The first character of `s` nobody would see, as `U+200B`, or null. */
export function invisibleIn(s: string): string | null {
  const m = INVISIBLE.exec(s.replace(EMOJI_GLUE, ''));
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : null;
}

/** A bot name as stored: NFKC, trimmed (inner spaces kept). Check `invisibleIn` on the result. */
export function normaliseName(raw: string): string {
  return raw.normalize('NFKC').replace(EDGE_SPACE, '');
}

/** Command words as stored: NFKC, trimmed, whitespace runs as one space. Check `invisibleIn` on the result. */
export function normaliseWords(raw: string): string {
  return raw.normalize('NFKC').replace(WHITESPACE_RUN, ' ').replace(EDGE_SPACE, '');
}

/**
 * The form two names are compared in: NFKC, invisible characters dropped
 * (only names from before these rules hold any; an emoji's selector too, so
 * `❤️shop` meets `❤shop`), whitespace runs as one
 * space, trimmed, case-folded. JavaScript has no full case folding;
 * upper-then-lower case approximates it (`ß` and `SS` meet at `ss`, final
 * and medial sigma at `σ`), then NFKC again for what case mapping decomposed.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').replace(INVISIBLE_ALL, '').replace(WHITESPACE_RUN, ' ').replace(EDGE_SPACE, '').toUpperCase().toLowerCase().normalize('NFKC');
}
