import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

function splitter(max = 16) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const s = new LineSplitter(max, { onLine: (l) => lines.push(l.toString('utf8')), onOverflow: (n) => overflows.push(n) });
  return { s, lines, overflows };
}

describe('LineSplitter', () => {
  it('splits lines across and within chunks, dropping \\r', () => {
    const { s, lines } = splitter();
    s.push(Buffer.from('ab'));
    s.push(Buffer.from('c\nde\r\nf'));
    s.push(Buffer.from('g\n\n'));
    expect(lines).toEqual(['abc', 'de', 'fg', '']);
    expect(s.buffered).toBe(0);
  });

  it('never cuts a multi-byte character (splits on bytes, decodes whole lines)', () => {
    const { s, lines } = splitter(64);
    const bytes = Buffer.from('안녕하세요\n');
    for (const b of bytes) s.push(Buffer.from([b]));
    expect(lines).toEqual(['안녕하세요']);
  });

  it('reports an overflow once the unfinished line passes the limit, then ignores input', () => {
    const { s, lines, overflows } = splitter(8);
    s.push(Buffer.from('12345'));
    s.push(Buffer.from('6789'));
    expect(overflows).toEqual([9]);
    expect(s.buffered).toBe(0);
    s.push(Buffer.from('\nok\n'));
    expect(lines).toEqual([]);
  });

  it('accepts a line of exactly the limit, refuses one byte more', () => {
    const ok = splitter(4);
    ok.s.push(Buffer.from('1234\n'));
    expect(ok.lines).toEqual(['1234']);
    const over = splitter(4);
    over.s.push(Buffer.from('12345\n'));
    expect(over.overflows).toHaveLength(1);
  });

  it('stops emitting after stop()', () => {
    const lines: string[] = [];
    const s: LineSplitter = new LineSplitter(16, { onLine: (l) => (lines.push(l.toString()), s.stop()), onOverflow: () => undefined });
    s.push(Buffer.from('a\nb\nc\n'));
    expect(lines).toEqual(['a']);
  });
});
