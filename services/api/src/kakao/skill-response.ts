import type { ReplyRich } from '@domaeka/broker';

/**
 * A command's reply as Kakao i Open Builder's SkillResponse `version: "2.0"`
 * (developer guide "응답 타입별 JSON 포맷" > SkillResponse, and the AI chatbot
 * callback guide for `useCallback`). Pure: every mapping rule is unit-tested
 * against our fixtures (test/fixtures/kakao/).
 *
 * The seed's answer `{text, type, buttons:[{label, url}]}` (and an image's
 * `url`) maps as services/api/README.md "Kakao channel" tells:
 * - text: `simpleText`, split at line ends into at most 3 outputs of 1,000
 *   characters, the last one cut with `…` when even that is not enough;
 * - an image given by URL: `simpleImage` (its caption as `altText`, and
 *   shown as text under it); given as Base64 it has no URL Kakao could load:
 *   only its caption is shown;
 * - buttons whose url is a web link (`http(s)://`) or a phone number
 *   (`tel:`): `basicCard` buttons (`webLink` / `phone`), 3 to a card, cards
 *   in a `carousel` when more; the card carries the text (when it fits the
 *   card's 230 characters, else the text goes before it) and the image as
 *   its thumbnail;
 * - buttons whose url is anything else: `quickReplies` that send that text
 *   as the user's next utterance (`{label: "서울", url: "날씨 서울"}`: a chip
 *   that asks `날씨 서울`), at most 10.
 */
export const KAKAO_LIMITS = {
  /** `template.outputs`: 1 to 3 components. */
  outputs: 3,
  /** `simpleText.text` (KakaoTalk folds what is past 500 behind "전체보기"). */
  simpleText: 1000,
  /** `simpleImage.altText`. */
  altText: 1000,
  /** `basicCard.description` of a card with buttons or a thumbnail. */
  cardDescription: 230,
  /** `basicCard.buttons`. */
  cardButtons: 3,
  /** `carousel.items`. */
  carouselItems: 10,
  /** `template.quickReplies`. */
  quickReplies: 10,
  /** A button's or a quick reply's `label`. */
  label: 14,
} as const;

export interface SkillButton {
  label: string;
  action: 'webLink' | 'phone';
  webLinkUrl?: string;
  phoneNumber?: string;
}
export interface BasicCard {
  title?: string;
  description?: string;
  thumbnail?: { imageUrl: string };
  buttons?: SkillButton[];
}
export type SkillOutput =
  | { simpleText: { text: string } }
  | { simpleImage: { imageUrl: string; altText: string } }
  | { basicCard: BasicCard }
  | { carousel: { type: 'basicCard'; items: BasicCard[] } };
export interface QuickReply {
  label: string;
  action: 'message';
  messageText: string;
}
export interface SkillResponse {
  version: '2.0';
  template: { outputs: SkillOutput[]; quickReplies?: QuickReply[] };
}
/** The immediate answer of a call that will be finished through the callback URL. */
export interface CallbackAck {
  version: '2.0';
  useCallback: true;
  data: { text: string };
}

/** What the channel says itself (the bot's fallback text replaces the first). */
export const KAKAO_TEXTS = {
  fallback: '죄송해요, 무슨 말씀인지 잘 모르겠어요. 명령어를 다시 확인해 주세요.',
  wait: '잠시만요, 답을 준비하고 있어요.',
  /** The answer did not come in Kakao's 5 seconds and the block has no callback option. */
  late: '답을 준비하는 데 시간이 걸리고 있어요. 잠시 후 다시 말씀해 주세요.',
  /** The channel's room is not approved (manual room approval) or the bot is switched off. */
  ignored: '지금은 이 채널에서 명령어를 사용할 수 없어요. 관리자에게 문의해 주세요.',
  error: '죄송해요, 지금은 답을 드릴 수 없어요. 잠시 후 다시 시도해 주세요.',
} as const;

const CARD_TITLE = '관련 링크';

/** A reply as the dispatcher stored or announced it. */
export interface SkillReply {
  type: string;
  text: string;
  rich?: ReplyRich;
}

export function textResponse(text: string): SkillResponse {
  return { version: '2.0', template: { outputs: textOutputs(text, KAKAO_LIMITS.outputs) } };
}

export function callbackAck(text: string = KAKAO_TEXTS.wait): CallbackAck {
  return { version: '2.0', useCallback: true, data: { text } };
}

export function replyResponse(reply: SkillReply): SkillResponse {
  const parts = reply.rich ?? { text: reply.text, buttons: [], imageUrl: null };
  const { links, quick } = sortButtons(parts.buttons);
  const outputs: SkillOutput[] = [];
  let text = parts.text;
  if (links.length > 0) {
    const inCard = text !== '' && text.length <= KAKAO_LIMITS.cardDescription;
    if (!inCard && text !== '') outputs.push(...textOutputs(text, KAKAO_LIMITS.outputs - 1));
    outputs.push(cardOutput(links, inCard ? text : '', parts.imageUrl));
  } else {
    if (parts.imageUrl !== null) {
      outputs.push({ simpleImage: { imageUrl: parts.imageUrl, altText: cut(text || '이미지', KAKAO_LIMITS.altText) } });
    }
    // A text-only answer always says something: Kakao refuses a response without outputs.
    if (text === '' && outputs.length === 0) text = reply.text || KAKAO_TEXTS.error;
    if (text !== '') outputs.push(...textOutputs(text, KAKAO_LIMITS.outputs - outputs.length));
  }
  const template: SkillResponse['template'] = { outputs };
  if (quick.length > 0) template.quickReplies = quick;
  return { version: '2.0', template };
}

function sortButtons(buttons: ReplyRich['buttons']): { links: SkillButton[]; quick: QuickReply[] } {
  const links: SkillButton[] = [];
  const quick: QuickReply[] = [];
  for (const b of buttons) {
    const url = b.url.trim();
    const label = cut(b.label.trim() || url, KAKAO_LIMITS.label);
    if (/^https?:\/\//i.test(url)) links.push({ label, action: 'webLink', webLinkUrl: url });
    else if (/^tel:/i.test(url)) links.push({ label, action: 'phone', phoneNumber: url.slice(4) });
    else if (url !== '' && quick.length < KAKAO_LIMITS.quickReplies) quick.push({ label, action: 'message', messageText: url });
  }
  return { links: links.slice(0, KAKAO_LIMITS.cardButtons * KAKAO_LIMITS.carouselItems), quick };
}

/** Buttons 3 to a card; the first card carries the text (when it fits) and the image; several cards make a carousel. */
function cardOutput(links: SkillButton[], description: string, imageUrl: string | null): SkillOutput {
  const cards: BasicCard[] = [];
  for (let i = 0; i < links.length; i += KAKAO_LIMITS.cardButtons) {
    const card: BasicCard = {};
    if (i === 0 && imageUrl !== null) card.thumbnail = { imageUrl };
    if (i === 0 && description !== '') card.description = description;
    else if (cards.length > 0 || imageUrl === null) card.title = CARD_TITLE;
    card.buttons = links.slice(i, i + KAKAO_LIMITS.cardButtons);
    cards.push(card);
  }
  return cards.length === 1 ? { basicCard: cards[0]! } : { carousel: { type: 'basicCard', items: cards } };
}

/** The text in at most `max` simpleText outputs of KAKAO_LIMITS.simpleText, split at line ends where one is near; the rest cut with `…`. */
export function textOutputs(text: string, max: number): SkillOutput[] {
  const limit = KAKAO_LIMITS.simpleText;
  const out: SkillOutput[] = [];
  let rest = text;
  while (rest !== '' && out.length < max) {
    if (rest.length <= limit) {
      out.push({ simpleText: { text: rest } });
      break;
    }
    if (out.length === max - 1) {
      out.push({ simpleText: { text: cut(rest, limit) } });
      break;
    }
    let at = rest.lastIndexOf('\n', limit);
    if (at < limit / 2) at = safeEnd(rest, limit);
    out.push({ simpleText: { text: rest.slice(0, at) } });
    rest = rest.slice(at).replace(/^\n/, '');
  }
  return out;
}

/** `text` within `max` UTF-16 units, `…` in place of what was cut; a surrogate pair is never halved. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, safeEnd(text, max - 1))}…`;
}

function safeEnd(text: string, end: number): number {
  const c = text.charCodeAt(end - 1);
  return c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}
