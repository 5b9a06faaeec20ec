import type { Draft } from './draft';

/**
 * The no-code starting points (issue 16, item 4): what a shop is asked
 * most, answered with fixed words. Kept in the web app: they fill the form
 * and nothing else; the API stores only what is saved. `{sender}` is the
 * asker's name in the room.
 */
export interface ReplyTemplate {
  id: string;
  name: string;
  description: string;
  command: string;
  text: string;
  imageUrl: string;
  buttons: { label: string; url: string }[];
}

export const REPLY_TEMPLATES: ReplyTemplate[] = [
  {
    id: 'hours',
    name: '🕘 영업시간',
    description: '"영업시간"이라고 물으면 가게 여는 시간을 답합니다.',
    command: '영업시간',
    text: '{sender}님, 안녕하세요! 영업시간 안내드립니다.\n평일 10:00 ~ 21:00\n주말 11:00 ~ 20:00\n매주 월요일은 쉽니다.',
    imageUrl: '',
    buttons: [],
  },
  {
    id: 'location',
    name: '📍 위치',
    description: '"위치"라고 물으면 오시는 길과 지도 링크를 답합니다.',
    command: '위치',
    text: '오시는 길\n서울시 ○○구 ○○로 12, 1층\n○○역 2번 출구에서 걸어서 3분입니다.',
    imageUrl: '',
    buttons: [{ label: '지도 보기', url: 'https://map.kakao.com/' }],
  },
  {
    id: 'menu',
    name: '🍽️ 메뉴',
    description: '"메뉴"라고 물으면 메뉴와 가격을 답합니다 (메뉴판 사진 주소를 넣을 수 있습니다).',
    command: '메뉴',
    text: '오늘의 메뉴\n- 김치찌개 9,000원\n- 된장찌개 9,000원\n- 제육볶음 11,000원',
    imageUrl: '',
    buttons: [],
  },
  {
    id: 'notice',
    name: '📢 공지',
    description: '"공지"라고 물으면 가게의 알림을 답합니다.',
    command: '공지',
    text: '📢 공지\n이번 주 토요일은 가게 사정으로 쉽니다.\n이용에 참고 부탁드립니다.',
    imageUrl: '',
    buttons: [],
  },
];

export function draftFromReplyTemplate(tpl: ReplyTemplate, keep: Draft): Draft {
  return {
    ...keep,
    kind: 'reply',
    command: tpl.command,
    pattern: '',
    description: keep.description || tpl.description,
    reply: { text: tpl.text, imageUrl: tpl.imageUrl, buttons: tpl.buttons.map((b) => ({ ...b })) },
  };
}

/**
 * What the room would read, as the dispatcher makes it
 * (services/dispatcher/src/targets/reply-target.ts): placeholders filled
 * from the test input, buttons as `label: url` lines (a phone's room has no
 * buttons).
 */
export function previewOf(r: { text: string; buttons: { label: string; url: string }[] }, input: Record<string, unknown> | null): string {
  const params = Array.isArray(input?.parameters) ? input.parameters.map(String).filter(Boolean).join(' ') : '';
  const values: Record<string, string> = {
    sender: typeof input?.sender === 'string' ? input.sender : '',
    room: typeof input?.room === 'string' ? input.room : '',
    params,
  };
  const text = r.text.replace(/\r\n?/g, '\n').trim().replace(/\{(sender|room|params)\}/g, (_m, name: string) => values[name] ?? '');
  const lines = r.buttons.filter((b) => b.url.trim()).map((b) => (b.label.trim() ? `${b.label.trim()}: ${b.url.trim()}` : b.url.trim()));
  return [text, ...lines].filter((l) => l !== '').join('\n');
}
