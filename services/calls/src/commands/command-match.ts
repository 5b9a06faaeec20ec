import RE2 from 're2';

/** What resolution needs of a command row; the rest of the row rides along in `T`. */
export interface ResolvableCommand {
  id: string;
  /** One or more words, e.g. `날씨` or `주문 조회`. */
  command: string;
  /** RE2 syntax, searched in the whole text (users anchor with ^/$ themselves). */
  pattern: string | null;
  /** Creation time (ms): among equals, older commands win. */
  createdAt: number;
}

export interface Resolution<T extends ResolvableCommand> {
  command: T;
  /** Capture groups of the pattern (unmatched -> ''), or the words after the command. */
  parameters: string[];
}

export interface RejectedCommand {
  id: string;
  reason: string;
}

interface Candidate<T> {
  def: T;
  words: string[];
  regex: RE2 | null;
}

const WHITESPACE = /\s+/u;

export function splitWords(text: string): string[] {
  return text.split(WHITESPACE).filter((w) => w.length > 0);
}

/**
 * Compiles a pattern with RE2 (linear time, no backreferences or
 * lookaround), so a hostile pattern can never stall the dispatcher.
 * Throws when RE2 cannot compile it.
 */
export function compilePattern(pattern: string): RE2 {
  return new RE2(pattern, 'u');
}

/**
 * How a room text finds its command, shared by the dispatcher (every
 * message) and the API (the editor's pattern test), so both always agree.
 *
 * One tenant's commands, compiled once and indexed by first word. Pure:
 * no I/O, so the rules below are unit-tested directly.
 *
 * Candidates are the commands whose words equal the first N words of the
 * text, tried in order: more words first, then commands with a pattern
 * before those without, then older first. A pattern must match (searched in
 * the whole text); a miss tries the next candidate.
 */
export class CommandSet<T extends ResolvableCommand> {
  private readonly byFirstWord = new Map<string, Candidate<T>[]>();
  private readonly byIdMap = new Map<string, T>();
  readonly rejected: RejectedCommand[] = [];
  readonly size: number;

  constructor(defs: readonly T[]) {
    let size = 0;
    for (const def of defs) {
      const words = splitWords(def.command.normalize('NFKC'));
      const first = words[0];
      if (first === undefined) {
        this.rejected.push({ id: def.id, reason: 'empty command' });
        continue;
      }
      let regex: RE2 | null = null;
      if (def.pattern !== null && def.pattern !== '') {
        try {
          regex = compilePattern(def.pattern);
        } catch (err) {
          this.rejected.push({ id: def.id, reason: `pattern: ${(err as Error).message}` });
          continue;
        }
      }
      const list = this.byFirstWord.get(first) ?? [];
      list.push({ def, words, regex });
      this.byFirstWord.set(first, list);
      this.byIdMap.set(def.id, def);
      size++;
    }
    for (const list of this.byFirstWord.values()) list.sort(candidateOrder);
    this.size = size;
  }

  /** An active command by its id (a schedule names its command, no text to resolve). */
  byId(id: string): T | undefined {
    return this.byIdMap.get(id);
  }

  resolve(text: string): Resolution<T> | null {
    const tokens = splitWords(text);
    if (tokens[0] === undefined) return null;
    const candidates = this.byFirstWord.get(tokens[0].normalize('NFKC'));
    if (!candidates) return null;
    for (const c of candidates) {
      const m = matchCandidate(c.words, c.regex, tokens, text);
      if (m.matched) return { command: c.def, parameters: m.parameters };
    }
    return null;
  }
}

/** One command against one text, as `CommandSet.resolve` tries each candidate. */
export type CommandMatch =
  | {
      matched: true;
      /** What the target gets as `parameters`: the pattern's groups ('' when unmatched), else the words after the command. */
      parameters: string[];
      /** Named groups `(?P<name>...)` of the pattern ('' when unmatched); {} without a pattern. */
      groups: Record<string, string>;
    }
  /** `command`: the text does not start with the command's words; `pattern`: the pattern found nothing. */
  | { matched: false; reason: 'command' | 'pattern' };

type CandidateMatch = { matched: true; parameters: string[]; exec: RegExpExecArray | null } | { matched: false; reason: 'command' | 'pattern' };

/** The one rule (every room message goes through it): named groups are left to the editor's `matchCommand`. */
function matchCandidate(words: string[], regex: RE2 | null, tokens: string[], text: string): CandidateMatch {
  // Command words are stored NFKC (names.ts), so the room's words are compared in NFKC too: `ｗｅａｔｈｅｒ` is `weather`.
  if (words.length > tokens.length || !words.every((w, i) => tokens[i]!.normalize('NFKC') === w)) return { matched: false, reason: 'command' };
  if (!regex) return { matched: true, parameters: tokens.slice(words.length), exec: null };
  const m = regex.exec(text);
  if (!m) return { matched: false, reason: 'pattern' };
  return { matched: true, parameters: m.slice(1).map((g) => g ?? ''), exec: m };
}

/**
 * The rules of `CommandSet.resolve` for a single command (the editor's
 * "test this pattern"): `command` null tests the pattern alone. Throws when
 * RE2 cannot compile the pattern; the caller bounds pattern and text size.
 */
export function matchCommand(def: { command: string | null; pattern: string | null }, text: string): CommandMatch {
  const regex = def.pattern ? compilePattern(def.pattern) : null;
  const m = matchCandidate(def.command === null ? [] : splitWords(def.command.normalize('NFKC')), regex, splitWords(text), text);
  if (!m.matched) return m;
  const groups: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.exec?.groups ?? {})) groups[name] = value ?? '';
  return { matched: true, parameters: m.parameters, groups };
}

function candidateOrder<T extends ResolvableCommand>(a: Candidate<T>, b: Candidate<T>): number {
  if (a.words.length !== b.words.length) return b.words.length - a.words.length;
  if ((a.regex === null) !== (b.regex === null)) return a.regex ? -1 : 1;
  if (a.def.createdAt !== b.def.createdAt) return a.def.createdAt - b.def.createdAt;
  return compareIds(a.def.id, b.def.id);
}

/** Ids are bigints carried as strings: compare numerically. */
function compareIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
