import { describe, expect, it } from 'vitest';
import { requestDict, testRestEvent } from './test-request.js';

describe('test request defaults', () => {
  it('fills what the editor left out as a room message would have it', () => {
    const e = testRestEvent({ parameters: ['서울'] }, 'ev-1');
    expect(e).toMatchObject({ command: '테스트', parameters: ['서울'], text: '테스트 서울', sender: '테스트 사용자', room: '테스트방', channelId: 'test', deviceKey: 'test', botName: 'test', eventId: 'ev-1' });
    expect(testRestEvent({}, 'ev-2', '날씨').text).toBe('날씨');
    expect(testRestEvent({ command: '주문', raw_text: '주문 하나' }, 'ev-3', '날씨')).toMatchObject({ command: '주문', text: '주문 하나' });
  });

  it('keeps fields and metadata the seed does not name in a run request', () => {
    const d = requestDict({ extra: 1, room: '가게', metadata: { bot: 'mine' } }, '날씨', 'run-1');
    expect(d).toMatchObject({ extra: 1, command: '날씨', parameters: [], raw_text: '날씨', room: '가게', channel_id: 'test' });
    expect(d.metadata).toMatchObject({ device_id: 'test', bot: 'mine', event_id: 'run-1' });
  });
});
