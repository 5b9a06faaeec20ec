import { roomMessageFor } from '@domaeka/core';
import { safeFetch, type EgressPolicy } from '../egress/index.js';
import { describeFetchError } from './http-call.js';
import { IMAGE_MAX_BYTES, decodeBase64Image, sniffImageFormat } from './image.js';
import type { AnswerParts, RestAnswer } from './rest-response.js';
import { failure, textReply, type CallLog, type ReplyContent, type TargetResult } from './target-result.js';

/**
 * What becomes of an image answer. `fetch` (room calls): the image is sent,
 * its URL fetched or its Base64 checked. `caption` (the editor's test call):
 * only the caption is kept, no URL is fetched and no image checked, so a
 * test shows what the image would say without a second outbound call.
 */
export type ImageAnswers = 'fetch' | 'caption';

/**
 * Turns a read answer (from a tenant API or a sandbox run) into what the
 * room gets: text, silence, the tenant's own failure text, or an image
 * (given as Base64 or fetched from its URL through the egress policy within
 * what is left of the timeout).
 */
export class AnswerReplier {
  constructor(
    private readonly policy: EgressPolicy,
    private readonly images: ImageAnswers = 'fetch',
  ) {}

  async toReply(answer: RestAnswer, log: CallLog, remainingMs: number): Promise<TargetResult> {
    switch (answer.kind) {
      case 'text':
        return { reply: { ...textReply(answer.text), ...richOf(answer.parts) }, log };
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
        // No media: a reply for the editor to show, never sent to a room.
        if (this.images === 'caption') return { reply: { type: 'image', text: answer.caption, media: [], ...richOf(answer.parts) }, log };
        const image = 'url' in answer ? await this.fetchImage(answer.url, remainingMs) : base64Image(answer.base64, answer.format);
        if ('code' in image) return failure(image.code, image.message, log);
        const reply: ReplyContent = { type: 'image', text: answer.caption, media: [image], ...richOf(answer.parts) };
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
      const { code, message } = describeFetchError(err);
      return { code, message: `image: ${message}` };
    }
  }
}

/** The answer's parts ride along as `rich` (the dispatcher keeps them only for channels that draw them). */
function richOf(parts: AnswerParts | undefined): Pick<ReplyContent, 'rich'> {
  return parts ? { rich: parts } : {};
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
