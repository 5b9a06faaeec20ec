/** The methods an HTTP target may use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * A fixed reply's button: `url` is a web link (`https://...`), a phone
 * number (`tel:...`), or a text the user would send next (a Kakao channel
 * quick reply). A phone's room has no buttons: they become `label: url`
 * lines under the text.
 */
export interface ReplyButton {
  label: string;
  url: string;
}

/**
 * A command with a fixed answer, made without code (issue 16, item 4:
 * 영업시간, 위치, 메뉴, 공지). `{sender}`, `{room}` and `{params}` in `text`
 * are filled from the room message. The image is fetched from its URL
 * through the egress policy when the room asks, as an HTTP answer's image is.
 */
export interface FixedReplyTarget {
  type: 'reply';
  text: string;
  imageUrl: string | null;
  buttons: ReplyButton[];
}

/** A command's target as the API shows it: stored HTTP header values come back `********`. */
export type TargetView =
  | { type: 'http'; url: string; method: HttpMethod; headers: Record<string, string> }
  | { type: 'sandbox'; language: 'python'; code: string }
  | FixedReplyTarget;

/** `GET /commands`, `GET /commands/:id`, and the answers of create, update and rollback. */
export interface CommandView {
  id: number;
  command: string;
  pattern: string | null;
  description: string | null;
  timeoutMs: number;
  isActive: boolean;
  target: TargetView;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** `GET /commands/:id/versions` (newest first): the command's fields as they were, with who saved them and when. */
export type CommandVersionView = Omit<CommandView, 'id' | 'updatedAt'> & {
  createdBy: string | null;
  /** A rollback's version: the version it restored (labelled "되돌림: v3에서"); null for an ordinary save. */
  restoredFrom: number | null;
};

/** The request dict `handle_command(params)` gets (as `POST /runs` `input`): what the room text would produce. */
export interface TemplateTestInput {
  command: string;
  /** What the pattern captures from `raw_text` (unmatched groups -> ''), or the words after the command. */
  parameters: string[];
  raw_text: string;
  sender?: string;
}

/** `GET /templates`: a starting point of the Python template library. */
export interface TemplateView {
  /** ASCII slug, stable: clients keep it. */
  id: string;
  name: string;
  description: string;
  /** Default command words (`POST /commands` `command`). */
  command: string;
  /** Default RE2 pattern (searched in the whole text, as the dispatcher does), or null: the words after the command. */
  pattern: string | null;
  testInput: TemplateTestInput;
  /** Prints as it runs: the editor should show its output live. */
  liveOutput: boolean;
  code: string;
}

/**
 * Why a message does not start with the command (`reason: 'command'`), for
 * the editor to say in words: a room message is answered only when its
 * first words are the command's words, each followed by a space or the end.
 * - `glued`: the first word begins with the command but goes on (`날씨좀` for `날씨`): a space is missing after it;
 *   `example`: the message with that space.
 * - `spacing`: the command's words written with other spaces (`주문조회` for `주문 조회`); `example` as for glued.
 * - `later`: the command's words come, but not first (`오늘 날씨`); `first`: what comes before.
 * - `short`: the message ends inside the command (`주문` for `주문 조회`).
 * - `other`: the first word is something else; `first`: that word.
 * - `empty`: the message has no words.
 */
export type CommandHint =
  | { kind: 'glued' | 'spacing'; word: string; example: string }
  | { kind: 'later'; first: string }
  | { kind: 'other'; first: string }
  | { kind: 'short' | 'empty' };

/** `POST /patterns/test`: a pattern tried on a sample text as the dispatcher would. */
export type PatternResult =
  | { matched: true; command: string | null; parameters: string[]; groups: Record<string, string> }
  | { matched: false; command: string | null; reason: 'command' | 'pattern'; parameters: []; groups: Record<string, never>; hint?: CommandHint };

/** `POST /commands/test-http`: one call to an HTTP target as a room message would make it. */
export interface HttpTestResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  /** What the room would get (an error's Korean room text included); null: the API chose silence. */
  reply: { type: 'text' | 'image'; text: string } | null;
  /** The answer's body, at most 16 KiB. */
  body: string | null;
  error: { code: string; message: string } | null;
}

/** `GET /secrets`: what the API ever shows of a secret, never its value. */
export interface SecretView {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** `GET /egress`: the tenant's allowlist and whether its plan lets sandbox code use it. */
export interface EgressView {
  /** The plan's `network` is `allowlist`; on `none` the list is kept but nothing goes out. */
  enabled: boolean;
  /** The plan id (`free`, `premium`), as `GET /me` names it. */
  plan: string;
  /** Canonical names (lower case, punycode; `*.example.com` for the names below a domain), sorted. */
  domains: string[];
}
