import type { FixedReplyTarget, ReplyButton } from '@domaeka/broker/contracts';
import { apiErrors } from '../errors.js';
import { checkUrlShape, URL_MAX_CHARS } from './command-rules.js';

/**
 * Save-time rules of a fixed reply (a command without code: 영업시간, 위치,
 * 메뉴, 공지). The text fits one Kakao `simpleText` (1,000 characters);
 * button labels fit Kakao's 14; a button is a web link, a `tel:` number or
 * a text the user would send next (services/api/src/kakao/skill-response.ts).
 */
export const REPLY_TEXT_MAX_CHARS = 1000;
export const REPLY_MAX_BUTTONS = 5;
export const REPLY_LABEL_MAX_CHARS = 14;

export interface FixedReplyInput {
  text: string;
  imageUrl?: string | null;
  buttons?: ReplyButton[];
}

export function checkFixedReply(input: FixedReplyInput): FixedReplyTarget {
  const text = input.text.replace(/\r\n?/g, '\n').trim();
  if (text === '') throw apiErrors.validation('답장 내용을 적어 주세요 / the reply text is empty');
  if ([...text].length > REPLY_TEXT_MAX_CHARS) {
    throw apiErrors.validation(`답장은 ${REPLY_TEXT_MAX_CHARS}자까지입니다 / the reply is longer than ${REPLY_TEXT_MAX_CHARS} characters`);
  }
  const rawImage = input.imageUrl?.trim() ?? '';
  const imageUrl = rawImage === '' ? null : imageUrlOf(rawImage);
  const buttons = (input.buttons ?? []).map(checkButton).filter((b): b is ReplyButton => b !== null);
  if (buttons.length > REPLY_MAX_BUTTONS) throw apiErrors.validation(`버튼은 ${REPLY_MAX_BUTTONS}개까지입니다 / at most ${REPLY_MAX_BUTTONS} buttons`);
  return { type: 'reply', text, imageUrl, buttons };
}

function imageUrlOf(raw: string): string {
  try {
    return checkUrlShape(raw);
  } catch {
    throw apiErrors.validation('이미지 주소는 http:// 또는 https:// 로 시작하는 인터넷 주소여야 합니다 / the image URL must be an http(s) URL');
  }
}

/** A row left wholly empty in the form is dropped; half-filled is refused. */
function checkButton(b: ReplyButton, i: number): ReplyButton | null {
  const label = b.label.trim();
  const url = b.url.trim();
  if (label === '' && url === '') return null;
  const n = i + 1;
  if (label === '') throw apiErrors.validation(`${n}번째 버튼의 이름을 적어 주세요 / button ${n} has no label`);
  if (url === '') throw apiErrors.validation(`${n}번째 버튼의 주소를 적어 주세요 / button ${n} has no URL`);
  if ([...label].length > REPLY_LABEL_MAX_CHARS) {
    throw apiErrors.validation(`버튼 이름은 ${REPLY_LABEL_MAX_CHARS}자까지입니다 (${n}번째 버튼) / button ${n}'s label is longer than ${REPLY_LABEL_MAX_CHARS} characters`);
  }
  if (url.length > URL_MAX_CHARS || /[\r\n\0]/.test(url)) throw apiErrors.validation(`${n}번째 버튼의 주소가 올바르지 않습니다 / button ${n}'s URL is invalid`);
  if (/^https?:/i.test(url)) {
    try {
      checkUrlShape(url);
    } catch {
      throw apiErrors.validation(`${n}번째 버튼의 주소가 올바르지 않습니다 / button ${n}'s URL is invalid`);
    }
  }
  return { label, url };
}
