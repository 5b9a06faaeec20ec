import { describe, expect, it } from 'vitest';
import { matchCommand } from '@domaeka/calls';
import { commandHint } from './pattern-hint.js';

describe('commandHint: why a message does not start with the command', () => {
  it('a word glued to the command: a space is missing after it', () => {
    expect(commandHint('날씨', '날씨좀 알려줘')).toEqual({ kind: 'glued', word: '날씨좀', example: '날씨 좀 알려줘' });
    expect(commandHint('주문 조회', '주문 조회하기 12')).toEqual({ kind: 'glued', word: '조회하기', example: '주문 조회 하기 12' });
  });

  it("a command of several words written with other spaces", () => {
    expect(commandHint('주문 조회', '주문조회 1234')).toEqual({ kind: 'spacing', word: '주문조회', example: '주문 조회 1234' });
    expect(commandHint('주문 조회', '주문조회')).toEqual({ kind: 'spacing', word: '주문조회', example: '주문 조회' });
  });

  it('the command later in the message, a message that ends inside it, another first word, no words', () => {
    expect(commandHint('날씨', '오늘 서울 날씨 알려줘')).toEqual({ kind: 'later', first: '오늘 서울' });
    expect(commandHint('주문 조회', '주문')).toEqual({ kind: 'short' });
    expect(commandHint('날씨', '안녕하세요')).toEqual({ kind: 'other', first: '안녕하세요' });
    expect(commandHint('날씨', '   ')).toEqual({ kind: 'empty' });
  });

  it('compares as the dispatcher does (NFKC), and quotes long words cut', () => {
    expect(commandHint('weather', 'ｗｅａｔｈｅｒｎｏｗ')).toEqual({ kind: 'glued', word: 'weathernow', example: 'weather now' });
    const long = `날씨${'가'.repeat(100)}`;
    const hint = commandHint('날씨', long);
    expect(hint.kind).toBe('glued');
    expect((hint as { word: string }).word).toHaveLength(40);
  });

  it('each suggested example is one the command matches', () => {
    for (const [command, text] of [
      ['날씨', '날씨좀 알려줘'],
      ['주문 조회', '주문 조회하기 12'],
      ['주문 조회', '주문조회 1234'],
    ] as const) {
      const hint = commandHint(command, text) as { example: string };
      expect(matchCommand({ command, pattern: null }, hint.example).matched, hint.example).toBe(true);
    }
  });
});
