import { DEFAULT_TEST_INPUT, pretty } from '$lib/format';
import type { Command, Template } from '$lib/types';

/** What the editor page edits: the command's fields, its code and the test input (JSON text). */
export interface Draft {
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

export function blankDraft(): Draft {
  return { command: '', pattern: '', description: '', timeoutMs: 5000, isActive: true, code: BLANK_CODE, testInput: pretty(DEFAULT_TEST_INPUT) };
}

export function draftOf(c: Command, testInput: string | null): Draft {
  return {
    command: c.command,
    pattern: c.pattern ?? '',
    description: c.description ?? '',
    timeoutMs: c.timeoutMs,
    isActive: c.isActive,
    code: c.target.type === 'sandbox' ? c.target.code : '',
    testInput: testInput ?? pretty(DEFAULT_TEST_INPUT),
  };
}

export function draftFromTemplate(tpl: Template, keep: Draft): Draft {
  const input = typeof tpl.testInput === 'string' ? tpl.testInput : pretty(tpl.testInput ?? DEFAULT_TEST_INPUT);
  return { ...keep, command: tpl.command, pattern: tpl.pattern ?? '', description: keep.description || tpl.description, code: tpl.code, testInput: input };
}

/** The POST/PATCH body of a sandbox command. */
export function bodyOf(d: Draft) {
  return {
    command: d.command,
    pattern: d.pattern.trim() ? d.pattern : null,
    description: d.description.trim() ? d.description : null,
    timeoutMs: d.timeoutMs,
    isActive: d.isActive,
    target: { type: 'sandbox' as const, language: 'python' as const, code: d.code },
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
