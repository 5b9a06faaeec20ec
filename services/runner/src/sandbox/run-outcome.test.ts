import { describe, expect, it } from 'vitest';
import { fromFrame, secondsKo } from './run-outcome.js';

describe('fromFrame: the runtime error as the runner passes it on', () => {
  const frame = (error: Record<string, unknown>) => ({ id: 1, ok: false, error, output: '', outputTruncated: false });

  it('keeps the runtime’s Korean explanation beside the message, traceback and line', () => {
    const r = fromFrame(
      frame({
        code: 'KB_ERR_USER_EXCEPTION',
        message: 'ZeroDivisionError: division by zero',
        line: 3,
        traceback: 'Traceback (most recent call last):\n  File "<tenant>", line 3, in handle_command',
        explanation: { message: '3번째 줄에서 0으로 나누었습니다.', hint: '나누기 전에 나누는 값이 0인지 확인해 주세요.' },
      }),
    );
    expect(r.error).toEqual({
      code: 'KB_ERR_USER_EXCEPTION',
      message: 'ZeroDivisionError: division by zero\nTraceback (most recent call last):\n  File "<tenant>", line 3, in handle_command',
      line: 3,
      explanation: { message: '3번째 줄에서 0으로 나누었습니다.', hint: '나누기 전에 나누는 값이 0인지 확인해 주세요.' },
    });
  });

  it('checks it like the rest of the frame: strings only, capped, a missing hint null', () => {
    expect(fromFrame(frame({ code: 'KB_ERR_TIMEOUT', message: 'm', explanation: { message: 5 } })).error).not.toHaveProperty('explanation');
    expect(fromFrame(frame({ code: 'KB_ERR_TIMEOUT', message: 'm', explanation: 'text' })).error).not.toHaveProperty('explanation');
    expect(fromFrame(frame({ code: 'KB_ERR_TIMEOUT', message: 'm', explanation: { message: '가'.repeat(5000), hint: 7 } })).error?.explanation).toEqual({
      message: '가'.repeat(1000),
      hint: null,
    });
  });
});

describe("fromFrame: the messages code sent (send), as the runtime's outbox writes them", () => {
  const ok = (sends: unknown) => ({ id: 1, ok: true, result: { type: 'text', text: '보냈어요' }, sends, output: '', outputTruncated: false });

  it('passes them on in order, and leaves the field out when there are none', () => {
    const sends = [
      { room: '공지방', text: '📢 내일 휴무' },
      { room: '직원방', text: '확인' },
    ];
    expect(fromFrame(ok(sends))).toMatchObject({ ok: true, sends });
    expect(fromFrame(ok(undefined))).not.toHaveProperty('sends');
    expect(fromFrame(ok([]))).not.toHaveProperty('sends');
  });

  it('refuses a frame the outbox would never write (forged by tenant code): too many, an extra key, an empty or long room', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ room: '방', text: String(i) }));
    for (const bad of [many, [{ room: '방', text: 'x', to: 'all' }], [{ room: '', text: 'x' }], [{ room: '방'.repeat(101), text: 'x' }], [{ room: '방', text: 5 }], 'x']) {
      const r = fromFrame(ok(bad));
      expect(r).toMatchObject({ ok: false, error: { code: 'KB_ERR_SANDBOX_CRASHED' } });
      expect(r).not.toHaveProperty('sends');
    }
  });
});

describe('secondsKo', () => {
  it('says a timeout in seconds as the runtime does', () => {
    expect([5000, 250, 1500, 30_000].map(secondsKo)).toEqual(['5초', '0.25초', '1.5초', '30초']);
  });
});
