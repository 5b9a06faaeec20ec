import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnalyzePayload, DispatchDonePayload } from '@domaeka/broker';
import { createLogger } from '@domaeka/core';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../accounts/tokens.js';
import type { SkillBot, SkillOutcomeRow } from './kakao-repository.js';
import { KakaoMetrics } from './skill-callbacks.js';
import { KakaoSkillService } from './skill-service.js';
import { KAKAO_TEXTS } from './skill-response.js';

/**
 * The skill call's timing rules with our own stand-ins for the database, the
 * broker door and the callback sender (the real path is
 * test/integration/kakao-channel.test.ts): what is answered at once, what
 * by callback, and when.
 */
const fixture = (name: string): any => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/kakao/${name}`, import.meta.url)), 'utf8'));
const KEY = 'k'.repeat(32);
const BOT: SkillBot = { id: '0193a0c4-5b6e-7c1d-9e2f-0a1b2c3d4e5f', tenantId: 't-1', name: 'LOA.i', fallbackText: null, timeoutMaxMs: 30_000 };

function harness(o: { commandTimeout?: number; outbox?: SkillOutcomeRow | null; failDispatch?: boolean } = {}) {
  let finish!: (d: DispatchDonePayload | null) => void;
  const done = new Promise<DispatchDonePayload | null>((resolve) => (finish = resolve));
  const published: AnalyzePayload[] = [];
  const sent: { url: string; response: unknown; deadline: number }[] = [];
  const service = new KakaoSkillService({
    repo: {
      botBySkillKey: async (hash) => (hash === sha256Hex(KEY) ? BOT : null),
      commands: async () => [{ id: '1', command: '날씨', pattern: null, timeout: o.commandTimeout ?? 5000, created_ms: 0 }],
      outcome: async () => o.outbox ?? null,
    },
    messages: {
      dispatch: async (_tenantId, payload) => {
        if (o.failDispatch) throw new Error('broker away');
        published.push(payload);
        return { eventId: 'e-1', done };
      },
    },
    callbacks: {
      send: async (url, response, deadline) => {
        sent.push({ url, response, deadline });
        return true;
      },
    },
    metrics: new KakaoMetrics(),
    logger: createLogger('kakao-test', 'silent'),
    timing: { answerByMs: 40 },
  });
  const notice = (status: DispatchDonePayload['status'], text?: string): DispatchDonePayload => ({
    eventId: 'e-1',
    tenantId: BOT.tenantId,
    botId: BOT.id,
    status,
    reply: text === undefined ? null : { type: 'text', text },
  });
  return { service, finish, published, sent, notice };
}

const weather = () => fixture('skill-payload.weather.json');
const withCallback = (utterance = '날씨 화도읍') => {
  const p = fixture('skill-payload.callback.json');
  p.userRequest.utterance = utterance;
  return p;
};

describe('KakaoSkillService', () => {
  it('a key no bot has (or not even key-shaped) is null: the route answers 404', async () => {
    const h = harness();
    expect(await h.service.answer('z'.repeat(32), weather())).toBeNull();
    expect(await h.service.answer('../../etc', weather())).toBeNull();
    expect(h.published).toEqual([]);
  });

  it('publishes a kakao-skill analyze event and answers with the reply when it comes in time', async () => {
    const h = harness();
    const answer = h.service.answer(KEY, weather());
    await new Promise((r) => setImmediate(r));
    h.finish(h.notice('replied', '🌤️ 화도읍 날씨: 맑음'));
    expect(await answer).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: '🌤️ 화도읍 날씨: 맑음' } }] } });
    expect(h.published[0]).toMatchObject({ source: 'kakao-skill', botId: BOT.id, channelId: 'kakao:64a1eff0b1c2d3e4f5a6b7c8', text: '날씨 화도읍', isGroupChat: false, replyRoute: null });
  });

  it('no command: the default fallback text (the bot may set its own)', async () => {
    const h = harness();
    const answer = h.service.answer(KEY, weather());
    await new Promise((r) => setImmediate(r));
    h.finish(h.notice('no_match'));
    expect(await answer).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: KAKAO_TEXTS.fallback } }] } });
  });

  it('not answered in time: with a callback URL "잠시만요" now, then exactly one POST of the final answer', async () => {
    const h = harness();
    const ack = await h.service.answer(KEY, withCallback());
    expect(ack).toEqual({ version: '2.0', useCallback: true, data: { text: KAKAO_TEXTS.wait } });
    expect(h.sent).toEqual([]);
    h.finish(h.notice('replied', '늦은 답'));
    await h.service.settle();
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.url).toBe(withCallback().userRequest.callbackUrl);
    expect(h.sent[0]!.response).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: '늦은 답' } }] } });
  });

  it('not answered in time and no callback option: the user is told it takes long', async () => {
    const h = harness();
    expect(await h.service.answer(KEY, weather())).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: KAKAO_TEXTS.late } }] } });
  });

  it('a command allowed longer than Kakao waits answers by callback at once, without waiting', async () => {
    const h = harness({ commandTimeout: 20_000 });
    // `done` is never settled before the acknowledgement: it cannot have waited for it.
    expect(await h.service.answer(KEY, withCallback('날씨 서울'))).toMatchObject({ useCallback: true });
    h.finish(h.notice('replied', '서울: 흐림'));
    await h.service.settle();
    expect(h.sent.map((s) => s.response)).toEqual([{ version: '2.0', template: { outputs: [{ simpleText: { text: '서울: 흐림' } }] } }]);
  });

  it('a dropped notice: the outbox tells the outcome', async () => {
    const h = harness({ outbox: { status: 'replied', reply: { type: 'text', text: '저장된 답' } } });
    const answer = h.service.answer(KEY, weather());
    await new Promise((r) => setImmediate(r));
    h.finish(null);
    expect(await answer).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: '저장된 답' } }] } });
  });

  it('the broker away: a polite text, never an error page', async () => {
    const h = harness({ failDispatch: true });
    expect(await h.service.answer(KEY, weather())).toEqual({ version: '2.0', template: { outputs: [{ simpleText: { text: KAKAO_TEXTS.error } }] } });
  });
});
