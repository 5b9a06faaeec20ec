import { describe, expect, it } from 'vitest';
import { CommandSet, compilePattern, matchCommand, splitWords, type ResolvableCommand } from './command-match.js';

let nextId = 1;
function cmd(command: string, pattern: string | null = null, createdAt = 0): ResolvableCommand {
  return { id: String(nextId++), command, pattern, createdAt };
}

describe('CommandSet.resolve', () => {
  it('answers 날씨 화도읍 with the remaining words as parameters', () => {
    const weather = cmd('날씨');
    const set = new CommandSet([weather]);
    expect(set.resolve('날씨 화도읍')).toEqual({ command: weather, parameters: ['화도읍'] });
  });

  it('prefers the longer command: 주문 조회 1234 goes to `주문 조회`, 주문 1234 to `주문`', () => {
    const order = cmd('주문');
    const lookup = cmd('주문 조회');
    const set = new CommandSet([order, lookup]);
    expect(set.resolve('주문 조회 1234')).toEqual({ command: lookup, parameters: ['1234'] });
    expect(set.resolve('주문 1234')).toEqual({ command: order, parameters: ['1234'] });
    expect(set.resolve('주문')).toEqual({ command: order, parameters: [] });
  });

  it('turns capture groups into parameters', () => {
    const weather = cmd('날씨', '^날씨\\s+(\\S+)');
    const set = new CommandSet([weather]);
    expect(set.resolve('날씨 화도읍')).toEqual({ command: weather, parameters: ['화도읍'] });
    expect(set.resolve('날씨   화도읍 내일')).toEqual({ command: weather, parameters: ['화도읍'] });
  });

  it('gives unmatched optional groups as empty strings, in order', () => {
    const stock = cmd('재고', '^재고\\s+(\\S+)(?:\\s+(\\d+))?');
    const set = new CommandSet([stock]);
    expect(set.resolve('재고 사과')?.parameters).toEqual(['사과', '']);
    expect(set.resolve('재고 사과 3')?.parameters).toEqual(['사과', '3']);
  });

  it('falls through to the next candidate when a pattern misses', () => {
    const numeric = cmd('주문', '^주문\\s+(\\d+)$', 10);
    const plain = cmd('주문', null, 5);
    const set = new CommandSet([plain, numeric]);
    expect(set.resolve('주문 1234')).toEqual({ command: numeric, parameters: ['1234'] });
    expect(set.resolve('주문 사과')).toEqual({ command: plain, parameters: ['사과'] });
  });

  it('answers nothing when the only candidate pattern misses', () => {
    const set = new CommandSet([cmd('날씨', '^날씨\\s+(\\S+)$')]);
    expect(set.resolve('날씨')).toBeNull();
  });

  it('tries commands with a pattern first, then older first', () => {
    const older = cmd('환율', null, 1);
    const newer = cmd('환율', null, 2);
    const patterned = cmd('환율', '(USD|JPY)', 3);
    const set = new CommandSet([newer, older, patterned]);
    expect(set.resolve('환율 USD')?.command).toBe(patterned);
    expect(set.resolve('환율 EUR')?.command).toBe(older);
  });

  it('splits on any run of whitespace (spaces, tabs, newlines, ideographic space)', () => {
    const lookup = cmd('주문 조회');
    const set = new CommandSet([lookup]);
    expect(set.resolve('  주문    조회\t1234\n5678')).toEqual({ command: lookup, parameters: ['1234', '5678'] });
    expect(set.resolve('주문\u3000조회 99')?.parameters).toEqual(['99']);
  });

  it('matches whole words only and ignores ordinary chat', () => {
    const set = new CommandSet([cmd('날씨'), cmd('주문 조회')]);
    expect(set.resolve('날씨가 좋네요')).toBeNull();
    expect(set.resolve('오늘 날씨 어때')).toBeNull();
    expect(set.resolve('주문 조회하기')).toBeNull();
    expect(set.resolve('')).toBeNull();
    expect(set.resolve('   ')).toBeNull();
  });

  it('searches the pattern in the whole text, not only after the command', () => {
    const track = cmd('배송', '송장\\s*(\\d{4,})');
    const set = new CommandSet([track]);
    expect(set.resolve('배송 확인 부탁 송장 123456')?.parameters).toEqual(['123456']);
  });

  it('runs a catastrophic-backtracking pattern in linear time (RE2)', () => {
    const hostile = cmd('공격', '^공격 (a+)+$');
    const set = new CommandSet([hostile]);
    const text = '공격 ' + 'a'.repeat(50_000) + '!';
    expect(set.resolve(text)).toBeNull();
    expect(set.resolve('공격 aaaa')?.parameters).toEqual(['aaaa']);
  });

  it('leaves out commands whose pattern RE2 cannot compile (backreference, lookahead)', () => {
    const good = cmd('날씨');
    const backref = cmd('반복', '(a)\\1');
    const lookahead = cmd('앞', '(?=x)x');
    const set = new CommandSet([good, backref, lookahead]);
    expect(set.size).toBe(1);
    expect(set.rejected.map((r) => r.id).sort()).toEqual([backref.id, lookahead.id].sort());
    expect(set.resolve('반복 aa')).toBeNull();
    expect(() => compilePattern('(a)\\1')).toThrow();
  });
});

describe('splitWords', () => {
  it('drops empty words', () => {
    expect(splitWords('  a  b ')).toEqual(['a', 'b']);
  });
});

describe('matchCommand', () => {
  it('agrees with CommandSet.resolve for one command', () => {
    const cases: [string, string | null, string][] = [
      ['날씨', '^날씨\\s+(\\S+)', '날씨   화도읍 내일'],
      ['주문 조회', null, '  주문    조회\t1234\n5678'],
      ['재고', '^재고\\s+(\\S+)(?:\\s+(\\d+))?', '재고 사과'],
      ['날씨', '^날씨\\s+(\\S+)$', '날씨'],
      ['날씨', null, '날씨가 좋네요'],
    ];
    for (const [command, pattern, text] of cases) {
      const resolved = new CommandSet([cmd(command, pattern)]).resolve(text);
      const m = matchCommand({ command, pattern }, text);
      expect(m.matched).toBe(resolved !== null);
      if (m.matched) expect(m.parameters).toEqual(resolved!.parameters);
    }
  });

  it('says which part missed, and gives named groups', () => {
    expect(matchCommand({ command: '날씨', pattern: null }, '오늘 날씨')).toEqual({ matched: false, reason: 'command' });
    expect(matchCommand({ command: '날씨', pattern: '(\\d+)' }, '날씨 맑음')).toEqual({ matched: false, reason: 'pattern' });
    expect(matchCommand({ command: null, pattern: '^주문 (?P<no>\\d+)(?: (?P<memo>.+))?$' }, '주문 42')).toEqual({
      matched: true,
      parameters: ['42', ''],
      groups: { no: '42', memo: '' },
    });
  });

  it('compares command words in NFKC (stored so), keeping the room\'s own words as parameters', () => {
    expect(matchCommand({ command: 'weather', pattern: null }, 'ｗｅａｔｈｅｒ ＳＥＯＵＬ')).toEqual({ matched: true, parameters: ['ＳＥＯＵＬ'], groups: {} });
    const set = new CommandSet([{ id: '1', command: 'ｍｅｎｕ', pattern: null, createdAt: 0 }]);
    expect(set.resolve('menu 1')?.parameters).toEqual(['1']);
    expect(set.resolve('menu\u200b 1')).toBeNull();
  });

  it('throws on what RE2 cannot compile', () => {
    expect(() => matchCommand({ command: null, pattern: '(?<=a)b' }, 'ab')).toThrow();
  });
});
