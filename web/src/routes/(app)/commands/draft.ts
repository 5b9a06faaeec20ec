import { DEFAULT_TEST_INPUT, pretty } from '$lib/format';
import type { CommandView, Json, TemplateView } from '@domaeka/broker/contracts';

/** An HTTP target as the form edits it: headers as rows (stored values come back as `********`). */
export interface HttpDraft {
  url: string;
  method: string;
  headers: { name: string; value: string }[];
  /** Rows edited since loading: only then is `headers` sent (a PATCH without it keeps the stored ones). */
  headersTouched: boolean;
}

/** A fixed reply as the form edits it (no code): the image URL '' when none, button rows possibly blank. */
export interface ReplyDraft {
  text: string;
  imageUrl: string;
  buttons: { label: string; url: string }[];
}

/** What the editor page edits: the command's fields, its code, HTTP target or fixed reply, and the test input (JSON text). */
export interface Draft {
  kind: 'sandbox' | 'http' | 'reply';
  http: HttpDraft;
  reply: ReplyDraft;
  command: string;
  pattern: string;
  description: string;
  timeoutMs: number;
  isActive: boolean;
  code: string;
  testInput: string;
}

export const BLANK_CODE = `def handle_command(params):
    """params: {'parameters': [...], 'sender': '보낸 사람', 'room': '방 이름'}"""
    name = params["sender"]
    return f"안녕하세요, {name}님!"
`;

export const MASKED = '********';

export const blankHttp = (): HttpDraft => ({ url: '', method: 'POST', headers: [], headersTouched: true });
export const blankReply = (): ReplyDraft => ({ text: '', imageUrl: '', buttons: [] });

export function blankDraft(kind: Draft['kind'] = 'sandbox'): Draft {
  return { kind, http: blankHttp(), reply: blankReply(), command: '', pattern: '', description: '', timeoutMs: 5000, isActive: true, code: BLANK_CODE, testInput: pretty(DEFAULT_TEST_INPUT) };
}

export function draftOf(c: Json<CommandView>, testInput: string | null): Draft {
  const t = c.target;
  return {
    kind: t.type,
    http:
      t.type === 'http'
        ? { url: t.url, method: t.method ?? 'POST', headers: Object.entries(t.headers ?? {}).map(([name, value]) => ({ name, value })), headersTouched: false }
        : blankHttp(),
    reply: t.type === 'reply' ? { text: t.text, imageUrl: t.imageUrl ?? '', buttons: t.buttons.map((b) => ({ ...b })) } : blankReply(),
    command: c.command,
    pattern: c.pattern ?? '',
    description: c.description ?? '',
    timeoutMs: c.timeoutMs,
    isActive: c.isActive,
    code: c.target.type === 'sandbox' ? c.target.code : '',
    testInput: testInput ?? pretty(DEFAULT_TEST_INPUT),
  };
}

export function draftFromTemplate(tpl: TemplateView, keep: Draft): Draft {
  const input = typeof tpl.testInput === 'string' ? tpl.testInput : pretty(tpl.testInput ?? DEFAULT_TEST_INPUT);
  return { ...keep, kind: 'sandbox', command: tpl.command, pattern: tpl.pattern ?? '', description: keep.description || tpl.description, code: tpl.code, testInput: input };
}

/** The HTTP target to save or test; `headers` only when the rows were edited. */
export function httpTargetOf(h: HttpDraft) {
  const headers = Object.fromEntries(h.headers.filter((r) => r.name.trim()).map((r) => [r.name.trim(), r.value]));
  return { type: 'http' as const, url: h.url.trim(), method: h.method, ...(h.headersTouched ? { headers } : {}) };
}

/** The fixed reply to save: no image is null, wholly blank button rows are left out (a half-filled one is the API's to refuse). */
export function replyTargetOf(r: ReplyDraft) {
  const buttons = r.buttons.filter((b) => b.label.trim() || b.url.trim()).map((b) => ({ label: b.label.trim(), url: b.url.trim() }));
  return { type: 'reply' as const, text: r.text, imageUrl: r.imageUrl.trim() || null, buttons };
}

/** Header rows still holding a stored value we never saw: saving them would store `********`. */
export function maskedLeft(h: HttpDraft): string[] {
  return h.headersTouched ? h.headers.filter((r) => r.name.trim() && r.value === MASKED).map((r) => r.name) : [];
}

/** A target as the editor sends it (and shows a saved version's): `headers` only when the rows were edited. */
export type TargetBody = ReturnType<typeof bodyOf>['target'];

/** The POST/PATCH body of the command. */
export function bodyOf(d: Draft) {
  return {
    command: d.command,
    pattern: d.pattern.trim() ? d.pattern : null,
    description: d.description.trim() ? d.description : null,
    timeoutMs: d.timeoutMs,
    isActive: d.isActive,
    target: d.kind === 'http' ? httpTargetOf(d.http) : d.kind === 'reply' ? replyTargetOf(d.reply) : { type: 'sandbox' as const, language: 'python' as const, code: d.code },
  };
}

/** The test input as the dict handle_command gets, or null when it is not a JSON object. */
export function parseInput(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Test inputs are the browser's, per command (the API keeps none). */
export const inputKey = (id: number) => `kb-test-input:${id}`;

/** What POST /commands/test-http accepts of the test input (its schema refuses other keys). */
export function httpInputOf(input: Record<string, unknown>): Record<string, unknown> {
  const keep = ['command', 'parameters', 'raw_text', 'sender', 'room', 'channel_id'];
  return Object.fromEntries(Object.entries(input).filter(([k]) => keep.includes(k)));
}

/** The sample text for the pattern tester: the test input's raw_text, else its command and parameters. */
export function sampleOf(testInput: string, command: string): string {
  const input = parseInput(testInput);
  if (!input) return command;
  if (typeof input.raw_text === 'string') return input.raw_text;
  const params = Array.isArray(input.parameters) ? input.parameters.map(String) : [];
  return [typeof input.command === 'string' ? input.command : command, ...params].filter(Boolean).join(' ');
}
