import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { SkillPayload, readSkillPayload } from './skill-payload.js';

const fixture = (name: string): any => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/kakao/${name}`, import.meta.url)), 'utf8'));
const check = TypeCompiler.Compile(SkillPayload);

describe('SkillPayload (test/fixtures/kakao)', () => {
  it('accepts the guide-shaped payloads, extra fields included', () => {
    expect([...check.Errors(fixture('skill-payload.weather.json'))]).toEqual([]);
    expect([...check.Errors(fixture('skill-payload.callback.json'))]).toEqual([]);
  });

  it('refuses a payload without utterance, user id or bot id', () => {
    const p = fixture('skill-payload.weather.json');
    delete p.userRequest.utterance;
    expect(check.Check(p)).toBe(false);
    const q = fixture('skill-payload.weather.json');
    q.userRequest.user.id = '';
    expect(check.Check(q)).toBe(false);
    const r = fixture('skill-payload.weather.json');
    delete r.bot;
    expect(check.Check(r)).toBe(false);
  });

  it('becomes the analyze event: the user is the sender, the channel (Kakao bot id) the room, Open Builder params ride along', () => {
    const u = readSkillPayload(fixture('skill-payload.weather.json'));
    expect(u).toEqual({
      text: '날씨 화도읍',
      sender: '8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e',
      senderHash: 'Xy7Qw2ErT9uI',
      channelId: 'kakao:64a1eff0b1c2d3e4f5a6b7c8',
      room: '도매까 상점',
      // action.params first; detailParams' values for the ones only there.
      kakao: { params: { sys_location: '화도읍', sys_date: '{"date": "2026-12-08", "dateTag": "today"}' }, block: '폴백 블록' },
      callbackUrl: null,
    });
    expect(readSkillPayload(fixture('skill-payload.callback.json')).callbackUrl).toMatch(/^https:\/\/bot-api\.kakao\.com\//);
  });
});
