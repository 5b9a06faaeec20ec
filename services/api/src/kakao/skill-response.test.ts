import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { KAKAO_LIMITS, KAKAO_TEXTS, callbackAck, cut, replyResponse, textResponse } from './skill-response.js';

/** Our fixtures, written from Kakao's developer guide (test/fixtures/kakao/README.md). */
const fixture = (name: string): any => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/kakao/${name}`, import.meta.url)), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(fixture('skill-response.schema.json'));
const kakaoAccepts = (r: unknown): string[] => (validate(r) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

describe('SkillResponse 2.0 contract (test/fixtures/kakao)', () => {
  it('the schema accepts each component as the guide shows it, and refuses what Kakao refuses', () => {
    for (const [name, example] of Object.entries(fixture('skill-response.examples.json'))) {
      if (name !== '$comment') expect(kakaoAccepts(example), name).toEqual([]);
    }
    const text = (t: string) => ({ simpleText: { text: t } });
    expect(kakaoAccepts({ version: '2.0', template: { outputs: [text('a'), text('b'), text('c'), text('d')] } })).not.toEqual([]);
    expect(kakaoAccepts({ version: '2.0', template: { outputs: [text('가'.repeat(1001))] } })).not.toEqual([]);
    expect(kakaoAccepts({ version: '2.0', template: { outputs: [] } })).not.toEqual([]);
    expect(kakaoAccepts({ version: '1.0', template: { outputs: [text('a')] } })).not.toEqual([]);
  });

  it('text becomes simpleText', () => {
    const r = replyResponse({ type: 'text', text: '🌤️ 화도읍 날씨: 맑음, 15°C' });
    expect(r).toEqual(fixture('skill-response.examples.json').simpleText);
  });

  it('long text is split at line ends into at most 3 simpleTexts of 1,000 characters, the rest cut with …', () => {
    const line = `${'가'.repeat(99)}\n`;
    const twoThousand = line.repeat(20);
    const two = replyResponse({ type: 'text', text: twoThousand });
    expect(kakaoAccepts(two)).toEqual([]);
    expect(two.template.outputs).toHaveLength(2);
    // Split where a line ends: nothing lost but the newline at the cut.
    expect(two.template.outputs.map((o) => ('simpleText' in o ? o.simpleText.text : '')).join('\n')).toBe(twoThousand);

    const huge = replyResponse({ type: 'text', text: 'x'.repeat(5000) });
    expect(kakaoAccepts(huge)).toEqual([]);
    expect(huge.template.outputs).toHaveLength(KAKAO_LIMITS.outputs);
    const last = huge.template.outputs[2] as { simpleText: { text: string } };
    expect(last.simpleText.text).toHaveLength(1000);
    expect(last.simpleText.text.endsWith('…')).toBe(true);
    // An emoji (a surrogate pair) is never cut in half.
    expect(cut('😀😀😀', 4)).toBe('😀…');
  });

  it('link buttons become a basicCard with the text as its description (the seed: {text, type, buttons:[{label, url}]})', () => {
    const r = replyResponse({
      type: 'text',
      text: '주문 1234: 배송 중\n자세히 보기: https://shop.example/o/1234\n전화: tel:0212345678',
      rich: {
        text: '주문 1234: 배송 중',
        buttons: [
          { label: '자세히 보기', url: 'https://shop.example/o/1234' },
          { label: '전화', url: 'tel:0212345678' },
        ],
        imageUrl: null,
      },
    });
    expect(kakaoAccepts(r)).toEqual([]);
    expect(r.template.outputs).toEqual([
      {
        basicCard: {
          description: '주문 1234: 배송 중',
          buttons: [
            { label: '자세히 보기', action: 'webLink', webLinkUrl: 'https://shop.example/o/1234' },
            { label: '전화', action: 'phone', phoneNumber: '0212345678' },
          ],
        },
      },
    ]);
  });

  it('more than 3 link buttons make a carousel of cards; a text too long for a card goes before it; labels are cut to 14', () => {
    const buttons = Array.from({ length: 7 }, (_, i) => ({ label: `아주 긴 버튼 이름 번호 ${i + 1}`, url: `https://shop.example/${i}` }));
    const text = '안내 '.repeat(100);
    const r = replyResponse({ type: 'text', text, rich: { text, buttons, imageUrl: null } });
    expect(kakaoAccepts(r)).toEqual([]);
    const [first, second] = r.template.outputs as [{ simpleText: { text: string } }, { carousel: { items: { buttons: unknown[]; title?: string }[] } }];
    expect(first.simpleText.text).toBe(text);
    expect(second.carousel.items.map((c) => c.buttons.length)).toEqual([3, 3, 1]);
    expect(second.carousel.items.every((c) => c.title === '관련 링크')).toBe(true);
    expect((second.carousel.items[0]!.buttons[0] as { label: string }).label).toHaveLength(KAKAO_LIMITS.label);
  });

  it('an image by URL becomes simpleImage with its caption as altText and text; with buttons, the card thumbnail', () => {
    const plain = replyResponse({ type: 'image', text: '오늘의 메뉴', rich: { text: '오늘의 메뉴', buttons: [], imageUrl: 'https://shop.example/menu.png' } });
    expect(kakaoAccepts(plain)).toEqual([]);
    expect(plain.template.outputs).toEqual([
      { simpleImage: { imageUrl: 'https://shop.example/menu.png', altText: '오늘의 메뉴' } },
      { simpleText: { text: '오늘의 메뉴' } },
    ]);
    const withButton = replyResponse({
      type: 'image',
      text: '지도',
      rich: { text: '지도', buttons: [{ label: '길찾기', url: 'https://map.example/1' }], imageUrl: 'https://map.example/1.png' },
    });
    expect(kakaoAccepts(withButton)).toEqual([]);
    expect(withButton.template.outputs).toEqual([
      {
        basicCard: {
          thumbnail: { imageUrl: 'https://map.example/1.png' },
          description: '지도',
          buttons: [{ label: '길찾기', action: 'webLink', webLinkUrl: 'https://map.example/1' }],
        },
      },
    ]);
    // Base64 has no URL Kakao could load: the caption is what is shown.
    const base64 = replyResponse({ type: 'image', text: '영수증' });
    expect(base64.template.outputs).toEqual([{ simpleText: { text: '영수증' } }]);
    const noCaption = replyResponse({ type: 'image', text: '', rich: { text: '', buttons: [], imageUrl: 'https://shop.example/x.png' } });
    expect(kakaoAccepts(noCaption)).toEqual([]);
    expect(noCaption.template.outputs).toEqual([{ simpleImage: { imageUrl: 'https://shop.example/x.png', altText: '이미지' } }]);
  });

  it('buttons that are not links become quick replies sending their url as the next utterance (at most 10)', () => {
    const buttons = Array.from({ length: 12 }, (_, i) => ({ label: `지역 ${i}`, url: `날씨 지역${i}` }));
    const r = replyResponse({ type: 'text', text: '어느 지역?', rich: { text: '어느 지역?', buttons, imageUrl: null } });
    expect(kakaoAccepts(r)).toEqual([]);
    expect(r.template.outputs).toEqual([{ simpleText: { text: '어느 지역?' } }]);
    expect(r.template.quickReplies).toHaveLength(KAKAO_LIMITS.quickReplies);
    expect(r.template.quickReplies![0]).toEqual({ label: '지역 0', action: 'message', messageText: '날씨 지역0' });
  });

  it('what the channel says itself: fallback, errors, the callback acknowledgement', () => {
    for (const t of Object.values(KAKAO_TEXTS)) expect(kakaoAccepts(textResponse(t))).toEqual([]);
    expect(callbackAck()).toEqual(fixture('skill-response.examples.json').useCallback);
    expect(kakaoAccepts(callbackAck())).toEqual([]);
    // A reply with nothing drawable still says something.
    expect(kakaoAccepts(replyResponse({ type: 'text', text: '' }))).toEqual([]);
  });
});
