import { describe, expect, it } from 'vitest';
import { RunOutput } from './run-output';

describe('RunOutput', () => {
  it('joined before the first print: chunks in order, duplicates dropped', () => {
    const o = new RunOutput();
    o.snapshotOf('');
    expect(o.add(0, 'a\n')).toBe(true);
    expect(o.add(1, 'b\n')).toBe(true);
    expect(o.add(1, 'b\n')).toBe(false);
    expect(o.text()).toBe('a\nb\n');
  });

  it('a chunk before the join answer is in the answer: not shown twice', () => {
    const o = new RunOutput();
    o.add(0, 'a\n');
    o.snapshotOf('a\n');
    o.add(1, 'b\n');
    expect(o.text()).toBe('a\nb\n');
  });

  it('joined late: the answer has what was missed, later chunks follow it', () => {
    const o = new RunOutput();
    o.add(3, 'd\n'); // arrived before the answer, which has 0..3
    o.snapshotOf('a\nb\nc\nd\n');
    o.add(4, 'e\n');
    expect(o.text()).toBe('a\nb\nc\nd\ne\n');
  });

  it('an answer read a moment too early (queued, no output) does not hide a chunk that came before it', () => {
    const o = new RunOutput();
    o.add(0, '첫 줄\n');
    o.snapshotOf('');
    expect(o.text()).toBe('첫 줄\n');
    o.add(1, '둘째 줄\n');
    expect(o.text()).toBe('첫 줄\n둘째 줄\n');
  });
});
