import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { checkNewName, guessType, cellValue } from './data-rules.js';
import { decodeText, parseCsv, readSheet } from './sheet-file.js';

describe('sheets', () => {
  it('reads CSV quotes, doubled quotes, embedded newlines, CRLF and a last line without an end', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\r\n"two\nlines",3')).toEqual([['a', 'b'], ['x, y', 'say "hi"'], ['two\nlines', '3']]);
    expect(() => parseCsv('a\n"open')).toThrow(/따옴표/);
  });

  it('tells UTF-8 (with or without BOM) from CP949', () => {
    expect(decodeText(Buffer.from('\ufeff품목', 'utf8'))).toEqual({ encoding: 'utf-8-bom', text: '품목' });
    expect(decodeText(Buffer.from('품목', 'utf8'))).toEqual({ encoding: 'utf-8', text: '품목' });
    expect(decodeText(iconv.encode('품목,수량', 'cp949'))).toEqual({ encoding: 'cp949', text: '품목,수량' });
  });

  it('refuses empty files, duplicate or empty headers and other file kinds in Korean', async () => {
    await expect(readSheet('a.csv', Buffer.alloc(0))).rejects.toThrow(/빈 파일/);
    await expect(readSheet('a.csv', Buffer.from('a,a\n1,2'))).rejects.toThrow(/두 번/);
    await expect(readSheet('a.csv', Buffer.from('a,,b\n1,2,3'))).rejects.toThrow(/2번째 열/);
    await expect(readSheet('a.pdf', Buffer.from('x'))).rejects.toThrow(/CSV/);
    await expect(readSheet('a.xlsx', Buffer.from('not a zip'))).rejects.toThrow(/엑셀 파일을 읽을 수 없습니다/);
  });

  it('guesses the narrowest type every cell fits', () => {
    expect(guessType(['1', '1,200', ''])).toBe('integer');
    expect(guessType(['1.5', '2'])).toBe('numeric');
    expect(guessType(['2026-12-07'])).toBe('date');
    expect(guessType(['예', '아니오'])).toBe('boolean');
    expect(guessType(['사과', '1'])).toBe('text');
    expect(guessType(['', ''])).toBe('text');
    expect(cellValue('1,200', 'integer')).toBe('1200');
    expect(cellValue('', 'integer')).toBeNull();
    expect(cellValue('열두', 'integer')).toEqual({ error: expect.stringMatching(/숫자가 아닙니다/) });
  });

  it('keeps Korean names and refuses quotes, dots, pg_ and long names', () => {
    expect(checkNewName(' 재고 목록 ', '표')).toBe('재고 목록');
    for (const bad of ['a"b', 'public.plans', 'pg_class', '', '가'.repeat(22), "x'; drop"]) expect(() => checkNewName(bad, '표'), bad).toThrow(/쓸 수 없습니다/);
  });
});
