import { describe, expect, it } from 'vitest';
import { CODE_ERRORS, failureReplyFor, roomMessageFor, roomMessages } from './errors.js';

describe('what a room reads when a call fails', () => {
  it('never a line number or a traceback, and politely for code errors', () => {
    for (const text of Object.values(roomMessages)) expect(text).not.toMatch(/번째 줄|line \d|Traceback/);
    expect(roomMessageFor('KB_ERR_USER_EXCEPTION')).toMatch(/^죄송합니다\. .*다시 시도해 주세요\.$/);
    expect(roomMessageFor('KB_ERR_LINT')).toMatch(/^죄송합니다\. /);
  });

  it("the tenant's own words for its code errors; the platform's texts for the rest", () => {
    const own = '지금은 답할 수 없어요. 가게로 전화 주세요!';
    for (const code of CODE_ERRORS) expect(failureReplyFor(code, own)).toBe(own);
    for (const code of ['KB_ERR_QUOTA_EXCEEDED', 'KB_ERR_BUSY', 'KB_ERR_NO_RUNNER', 'KB_ERR_STORAGE_QUOTA', 'KB_ERR_TARGET_FAILED']) {
      expect(failureReplyFor(code, own)).toBe(roomMessageFor(code));
    }
    expect(failureReplyFor('KB_ERR_USER_EXCEPTION', null)).toBe(roomMessageFor('KB_ERR_USER_EXCEPTION'));
    expect(failureReplyFor('KB_ERR_TIMEOUT', '')).toBe(roomMessageFor('KB_ERR_TIMEOUT'));
  });
});
