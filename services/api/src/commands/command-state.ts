import type { CommandView, FixedReplyTarget, HttpMethod, TargetView } from '@domaeka/broker/contracts';
import type { SecretBox } from '@domaeka/core';
import type { Command } from '../db/entities/index.js';
import { maskHeaders } from './command-rules.js';

/**
 * What a command IS, apart from its identity and bookkeeping: the content
 * of a `kb_command_versions.snapshot`, restored as-is by a rollback. HTTP
 * headers stay sealed inside it.
 */
export type StoredTarget =
  | { type: 'http'; url: string; method: HttpMethod; headersEnc: string | null }
  | { type: 'sandbox'; language: 'python'; code: string }
  | FixedReplyTarget;

export interface CommandState {
  command: string;
  pattern: string | null;
  description: string | null;
  timeoutMs: number;
  isActive: boolean;
  target: StoredTarget;
}

export function stateOf(row: Command): CommandState {
  const target: StoredTarget =
    row.targetType === 'http'
      ? { type: 'http', url: row.apiServerUrl ?? '', method: row.apiMethod as HttpMethod, headersEnc: row.apiHeadersEnc }
      : row.targetType === 'reply'
        ? fixedReplyOf(row.reply)
        : { type: 'sandbox', language: 'python', code: row.code ?? '' };
  return {
    command: row.command,
    pattern: row.pattern,
    description: row.description,
    timeoutMs: row.timeoutMs,
    isActive: row.isActive,
    target,
  };
}

/** Writes a state onto the row (the columns of the other target type are cleared). */
export function applyState(row: Command, s: CommandState): void {
  row.command = s.command;
  row.pattern = s.pattern;
  row.description = s.description;
  row.timeoutMs = s.timeoutMs;
  row.isActive = s.isActive;
  row.targetType = s.target.type;
  row.apiServerUrl = null;
  row.apiMethod = 'POST';
  row.apiHeadersEnc = null;
  row.language = null;
  row.code = null;
  row.reply = null;
  if (s.target.type === 'http') {
    row.apiServerUrl = s.target.url;
    row.apiMethod = s.target.method;
    row.apiHeadersEnc = s.target.headersEnc;
  } else if (s.target.type === 'sandbox') {
    row.language = s.target.language;
    row.code = s.target.code;
  } else {
    row.reply = { text: s.target.text, imageUrl: s.target.imageUrl, buttons: s.target.buttons };
  }
}

/** The `reply` column as the API wrote it (`applyState`). */
function fixedReplyOf(raw: Record<string, unknown> | null): FixedReplyTarget {
  const r = raw ?? {};
  return {
    type: 'reply',
    text: typeof r.text === 'string' ? r.text : '',
    imageUrl: typeof r.imageUrl === 'string' ? r.imageUrl : null,
    buttons: Array.isArray(r.buttons) ? (r.buttons as FixedReplyTarget['buttons']) : [],
  };
}

/** A snapshot read back from jsonb; older shapes would be upgraded here. */
export function stateFromSnapshot(snapshot: Record<string, unknown>): CommandState {
  return snapshot as unknown as CommandState;
}

export function openHeaders(secrets: SecretBox, sealed: string | null): Record<string, string> {
  return sealed ? (JSON.parse(secrets.open(sealed)) as Record<string, string>) : {};
}

export function targetView(secrets: SecretBox, t: StoredTarget): TargetView {
  if (t.type === 'sandbox') return { type: 'sandbox', language: t.language, code: t.code };
  if (t.type === 'reply') return { type: 'reply', text: t.text, imageUrl: t.imageUrl, buttons: t.buttons };
  return { type: 'http', url: t.url, method: t.method, headers: maskHeaders(openHeaders(secrets, t.headersEnc)) };
}

export function commandView(secrets: SecretBox, row: Command): CommandView {
  const s = stateOf(row);
  return {
    id: row.id,
    command: s.command,
    pattern: s.pattern,
    description: s.description,
    timeoutMs: s.timeoutMs,
    isActive: s.isActive,
    target: targetView(secrets, s.target),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
