import type { SafeRequest } from '../egress/safe-fetch.js';
import { KbError } from '@domaeka/core';
import { fillSecretHeaders, type TenantSecrets } from './header-secrets.js';
import { readRestAnswer, type RestAnswer } from './rest-response.js';

/**
 * The request a tenant's HTTP command gets and how its answer is read,
 * shared by the dispatcher (every room call) and the API (the editor's test
 * call), so a test call is exactly what the room would cause. Pure:
 * `callHttpTarget` (call-http-target.ts) sends it with `safeFetch` (egress
 * policy) and times it.
 */

/** A tenant API answers in JSON; more than this is not a chat reply. */
export const RESPONSE_MAX_BYTES = 1024 * 1024;

/** Request and response text kept in kb_api_logs (personal data: bounded). */
export const LOG_DATA_MAX_BYTES = 64 * 1024;

// Set by us, never by a tenant's header list (they would break the exchange or spoof our identity).
const RESERVED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'x-kb-event-id']);

export interface HttpTargetSpec {
  url: string;
  method: string;
  /** As stored (may hold `{{secret:NAME}}`). */
  headers: Record<string, string>;
}

/** What the seed's REST standard request is made of. */
export interface RestEvent {
  command: string;
  parameters: string[];
  text: string;
  sender: string;
  room: string;
  channelId: string;
  /** When the phone saw the message (ISO). */
  timestamp: string;
  deviceKey: string | null;
  botName: string;
  eventId: string;
  /** An utterance on the official KakaoTalk channel: what Open Builder resolved for its block (`metadata.kakao`). */
  kakao?: { params: Record<string, string>; block: string | null };
  /** A schedule's fire, not a chat message (`metadata.schedule`): which schedule, which period (ISO), its Korean label. */
  schedule?: { id: string; fireAt: string; label: string };
}

/** The seed's REST standard request (also what a sandbox would receive); `metadata.kakao` only for the official channel, `metadata.schedule` (and `source: 'schedule'`) only for a schedule's fire. */
export function restRequestBody(e: RestEvent): Record<string, unknown> {
  return {
    command: e.command,
    parameters: e.parameters,
    raw_text: e.text,
    sender: e.sender,
    room: e.room,
    channel_id: e.channelId,
    metadata: {
      timestamp: e.timestamp,
      device_id: e.deviceKey,
      bot: e.botName,
      event_id: e.eventId,
      ...(e.kakao ? { kakao: e.kakao } : {}),
      ...(e.schedule ? { source: 'schedule', schedule: { schedule_id: e.schedule.id, fire_at: e.schedule.fireAt, label: e.schedule.label } } : {}),
    },
  };
}

export type PreparedHttpCall =
  | { ok: true; request: Omit<SafeRequest, 'timeoutMs' | 'maxBytes'> }
  | { ok: false; code: 'KB_ERR_SECRET_MISSING' | 'KB_ERR_SECRET_INVALID'; message: string };

/**
 * Headers filled with the tenant's secrets (at call time: a secret set or
 * deleted applies to the next call), ours on top; the body unless GET/HEAD.
 */
export function prepareHttpCall(target: HttpTargetSpec, body: Record<string, unknown>, eventId: string, secrets: TenantSecrets): PreparedHttpCall {
  const tenantHeaders = fillSecretHeaders(target.headers, secrets);
  if (!tenantHeaders.ok) return tenantHeaders;
  const sendsBody = target.method !== 'GET' && target.method !== 'HEAD';
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': 'Domaeka-Dispatcher/1',
  };
  if (sendsBody) headers['content-type'] = 'application/json; charset=utf-8';
  for (const [k, v] of Object.entries(tenantHeaders.headers)) if (!RESERVED_HEADERS.has(k.toLowerCase())) headers[k] = v;
  // Lets a tenant API dedupe a call we repeat after a crash (also in metadata.event_id).
  headers['x-kb-event-id'] = eventId;
  return { ok: true, request: { url: target.url, method: target.method, headers, body: sendsBody ? JSON.stringify(body) : undefined } };
}

/** What an HTTP answer means for the room, before images are fetched. */
export type HttpAnswer =
  | { kind: 'error'; code: 'KB_ERR_TARGET_STATUS' | 'KB_ERR_TARGET_INVALID'; message: string }
  /** An empty 2xx answer (204 and the like): the API has nothing to say. */
  | { kind: 'silent' }
  | { kind: 'answer'; answer: RestAnswer };

export function readHttpAnswer(status: number, text: string): HttpAnswer {
  if (status < 200 || status > 299) return { kind: 'error', code: 'KB_ERR_TARGET_STATUS', message: `target answered HTTP ${status}` };
  if (text.trim() === '') return { kind: 'silent' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'error', code: 'KB_ERR_TARGET_INVALID', message: 'response is not JSON' };
  }
  return { kind: 'answer', answer: readRestAnswer(parsed) };
}

/** Cuts UTF-8 text to `maxBytes` without leaving half a character behind. */
export function truncateUtf8(text: string, maxBytes = LOG_DATA_MAX_BYTES): string {
  if (text.length <= maxBytes / 4 || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/u, '');
}

/** safeFetch speaks in KbError codes; anything else is ours (a bug) or the network's. */
export function describeFetchError(err: unknown): { code: string; message: string } {
  if (err instanceof KbError) return { code: err.code, message: err.message };
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('KB_ERR_')) return { code: e.code, message: e.message ?? e.code };
  return { code: 'KB_ERR_TARGET_UNREACHABLE', message: e?.message ?? String(err) };
}
