import { describe, expect, it } from 'vitest';
import { describeRejection } from './rejections.js';

describe('describeRejection', () => {
  it('names the field of an unstorable identifier, Korean first', () => {
    expect(describeRejection('unstorable_field', 'room')).toEqual({
      code: 'UNSTORABLE_FIELD',
      message: '저장할 수 없는 문자(NUL 또는 짝 없는 서로게이트)가 들어 있습니다: room (field holds a character that cannot be stored)',
      field: 'room',
    });
  });
  it('keeps the fixed message of other refusals (their detail is for the log only)', () => {
    expect(describeRejection('bad_handshake', 'version')).toEqual({ code: 'INVALID_HANDSHAKE', message: '핸드셰이크 형식이 올바르지 않습니다 (malformed handshake)' });
  });
});
