import { performance } from 'node:perf_hooks';
import { KbError, roomMessageFor, safeFetch, type EgressPolicy, type SafeResponse } from '@domaeka/core';
import { readRestAnswer, type RestAnswer } from './rest-response.js';
import { IMAGE_MAX_BYTES, decodeBase64Image, sniffImageFormat } from './image.js';
import {
  failure,
  restRequest,
  textReply,
  truncateUtf8,
  type CallLog,
  type ReplyContent,
  type Target,
  type TargetCall,
  type TargetResult,
} from './target.js';

/** A tenant API answers in JSON; more than this is not a chat reply. */
export const RESPONSE_MAX_BYTES = 1024 * 1024;

// Set by us, never by a tenant's header list (they would break the exchange or spoof our identity).
const RESERVED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'x-kb-event-id']);

/**
 * Calls a tenant's HTTP API with the seed's REST standard through the
 * egress policy (every call re-checks the address: DNS can change), and
 * turns whatever happens into a reply for the room and a log row.
 */
export class HttpTarget implements Target {
  constructor(private readonly policy: EgressPolicy) {}

  async call(c: TargetCall): Promise<TargetResult> {
    const target = c.command.target;
    if (target.type !== 'http') throw new Error('HttpTarget called for a non-http command');
    const body = restRequest(c);
    const requestData = truncateUtf8(JSON.stringify(body));
    if (target.headers === null) {
      return failure('KB_ERR_INTERNAL', 'api headers could not be opened', { requestData });
    }

    const sendsBody = target.method !== 'GET' && target.method !== 'HEAD';
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'Domaeka-Dispatcher/1',
    };
    if (sendsBody) headers['content-type'] = 'application/json; charset=utf-8';
    for (const [k, v] of Object.entries(target.headers)) if (!RESERVED_HEADERS.has(k.toLowerCase())) headers[k] = v;
    // Lets a tenant API dedupe a call we repeat after a crash (also in metadata.event_id).
    headers['x-kb-event-id'] = c.eventId;

    const started = performance.now();
    const elapsed = () => performance.now() - started;
    let res: SafeResponse;
    try {
      res = await safeFetch(this.policy, {
        url: target.url,
        method: target.method,
        headers,
        body: sendsBody ? JSON.stringify(body) : undefined,
        timeoutMs: c.timeoutMs,
        maxBytes: RESPONSE_MAX_BYTES,
      });
    } catch (err) {
      const { code, message } = describe(err);
      return failure(code, message, { requestData, responseTimeMs: elapsed() });
    }

    const responseTimeMs = elapsed();
    const text = res.body.toString('utf8');
    const log: CallLog = {
      requestData,
      responseData: truncateUtf8(text),
      statusCode: res.status,
      responseTimeMs,
      errorCode: null,
      errorMessage: null,
    };
    if (res.status < 200 || res.status > 299) {
      return failure('KB_ERR_TARGET_STATUS', `target answered HTTP ${res.status}`, log);
    }
    // An empty 2xx answer (204 and the like) means the API has nothing to say.
    if (text.trim() === '') return { reply: null, log };

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return failure('KB_ERR_TARGET_INVALID', 'response is not JSON', log);
    }
    return this.toReply(readRestAnswer(parsed), log, c.timeoutMs - responseTimeMs);
  }

  private async toReply(answer: RestAnswer, log: CallLog, remainingMs: number): Promise<TargetResult> {
    switch (answer.kind) {
      case 'text':
        return { reply: textReply(answer.text), log };
      case 'silent':
        return { reply: null, log };
      case 'failed':
        return {
          reply: textReply(answer.text ?? roomMessageFor('KB_ERR_INTERNAL')),
          log: { ...log, errorCode: 'KB_ERR_TARGET_FAILED', errorMessage: answer.error.slice(0, 1000) },
        };
      case 'invalid':
        return failure('KB_ERR_TARGET_INVALID', answer.reason, log);
      case 'image': {
        const image = 'url' in answer ? await this.fetchImage(answer.url, remainingMs) : base64Image(answer.base64, answer.format);
        if ('code' in image) return failure(image.code, image.message, log);
        const reply: ReplyContent = { type: 'image', text: answer.caption, media: [image] };
        return { reply, log };
      }
    }
  }

  /** Fetches an image the answer points at, through the same egress policy, within what is left of the timeout. */
  private async fetchImage(url: string, remainingMs: number): Promise<{ format: string; data: string } | { code: string; message: string }> {
    if (remainingMs <= 0) return { code: 'KB_ERR_TIMEOUT', message: 'no time left to fetch the image' };
    try {
      const res = await safeFetch(this.policy, {
        url,
        method: 'GET',
        headers: { accept: 'image/*', 'user-agent': 'Domaeka-Dispatcher/1' },
        timeoutMs: remainingMs,
        maxBytes: IMAGE_MAX_BYTES,
      });
      if (res.status < 200 || res.status > 299) return { code: 'KB_ERR_TARGET_STATUS', message: `image URL answered HTTP ${res.status}` };
      const format = sniffImageFormat(res.body);
      if (!format) return { code: 'KB_ERR_TARGET_INVALID', message: 'image URL did not return an image' };
      return { format, data: res.body.toString('base64') };
    } catch (err) {
      const { code, message } = describe(err);
      return { code, message: `image: ${message}` };
    }
  }
}

function base64Image(raw: string, declared: string | null): { format: string; data: string } | { code: string; message: string } {
  const bytes = decodeBase64Image(raw);
  if (!bytes) return { code: 'KB_ERR_TARGET_INVALID', message: 'image_base64 is not Base64' };
  if (bytes.length > IMAGE_MAX_BYTES) return { code: 'KB_ERR_TARGET_TOO_LARGE', message: 'image larger than 5 MB' };
  const format = sniffImageFormat(bytes) ?? normaliseFormat(declared);
  if (!format) return { code: 'KB_ERR_TARGET_INVALID', message: 'image_base64 is not a png or jpg image' };
  return { format, data: bytes.toString('base64') };
}

function normaliseFormat(f: string | null): string | null {
  const v = (f ?? '').toLowerCase();
  if (v === 'jpeg' || v === 'jpg') return 'jpg';
  return v === 'png' ? 'png' : null;
}

/** safeFetch speaks in KbError codes; anything else is ours (a bug) or the network's. */
function describe(err: unknown): { code: string; message: string } {
  if (err instanceof KbError) return { code: err.code, message: err.message };
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('KB_ERR_')) return { code: e.code, message: e.message ?? e.code };
  return { code: 'KB_ERR_TARGET_UNREACHABLE', message: e?.message ?? String(err) };
}
