import { describe, expect, it } from 'vitest';
import { checkFixedReply } from './reply-rules.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('fixed reply rules', () => {
  it('trims the text, drops blank button rows and keeps tel:, web and quick-reply buttons', () => {
    expect(
      checkFixedReply({
        text: '\r\n 영업시간: 10시~21시 \r\n',
        imageUrl: '  ',
        buttons: [
          { label: ' 전화 ', url: ' tel:010-1234-5678 ' },
          { label: '', url: '' },
          { label: '지도', url: 'https://map.example/1' },
          { label: '메뉴도', url: '메뉴' },
        ],
      }),
    ).toEqual({
      type: 'reply',
      text: '영업시간: 10시~21시',
      imageUrl: null,
      buttons: [
        { label: '전화', url: 'tel:010-1234-5678' },
        { label: '지도', url: 'https://map.example/1' },
        { label: '메뉴도', url: '메뉴' },
      ],
    });
  });

  it('says in Korean what is wrong', () => {
    expect(messageOf(() => checkFixedReply({ text: ' ' }))).toMatch(/^답장 내용을 적어 주세요/);
    expect(messageOf(() => checkFixedReply({ text: '가'.repeat(1001) }))).toMatch(/^답장은 1000자까지입니다/);
    expect(messageOf(() => checkFixedReply({ text: '메뉴', imageUrl: 'menu.png' }))).toMatch(/^이미지 주소는 http:\/\//);
    expect(messageOf(() => checkFixedReply({ text: '메뉴', buttons: [{ label: '', url: 'https://x.example' }] }))).toMatch(/^1번째 버튼의 이름을 적어 주세요/);
    expect(messageOf(() => checkFixedReply({ text: '메뉴', buttons: [{ label: '가'.repeat(15), url: 'https://x.example' }] }))).toMatch(/^버튼 이름은 14자까지입니다/);
    expect(messageOf(() => checkFixedReply({ text: '메뉴', buttons: [{ label: '지도', url: 'https://user:pw@x.example' }] }))).toMatch(/^1번째 버튼의 주소가 올바르지 않습니다/);
  });
});
