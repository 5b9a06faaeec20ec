import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, bodyView, deathOf, keptBody, reasonOf, replayHeaders, replayTarget, safeHeaders } from './dead-letter-rules.js';

describe('dead letters: where and why a message died', () => {
  it('reads the newest x-death entry of an expired reply', () => {
    const d = deathOf({
      'x-death': [
        { count: 1, reason: 'expired', queue: 'kb.reply.dev.d1', time: new Date(0), exchange: 'kb.replies', 'routing-keys': ['dev.d1'], 'original-expiration': '200' },
        { count: 3, reason: 'rejected', queue: 'kb.dispatch', exchange: 'kb.events', 'routing-keys': ['analyze'] },
      ],
      'x-first-death-reason': 'rejected',
    });
    expect(d).toEqual({ reason: 'expired', detail: null, exchange: 'kb.replies', routingKey: 'dev.d1', queue: 'kb.reply.dev.d1', count: 1 });
  });

  it("prefers our consumer's refusal headers (no x-death is added then)", () => {
    const d = deathOf({ 'x-kb-reason': 'schema analyze.v1: /payload/text Expected string', 'x-kb-queue': 'kb.dispatch', 'x-kb-routing-key': 'analyze' });
    expect(d).toEqual({ reason: 'rejected', detail: 'schema analyze.v1: /payload/text Expected string', exchange: null, routingKey: 'analyze', queue: 'kb.dispatch', count: 1 });
  });

  it('maps broker reasons and calls anything else unknown', () => {
    expect(['expired', 'rejected', 'delivery_limit', 'maxlen'].map(reasonOf)).toEqual(['expired', 'rejected', 'delivery_limit', 'maxlen']);
    expect(reasonOf('something_new')).toBe('unknown');
    expect(reasonOf(Buffer.from('maxlen'))).toBe('maxlen');
    expect(reasonOf(undefined)).toBe('unknown');
    expect(deathOf(undefined)).toMatchObject({ reason: 'unknown', queue: null, count: 1 });
    expect(deathOf({ 'x-death': [{ reason: 'delivery_limit', count: 'x', queue: Buffer.from('q') }] })).toMatchObject({ reason: 'delivery_limit', queue: 'q', count: 1, routingKey: null });
  });

  it('keeps headers as JSON without secret-shaped names, at any depth', () => {
    const h = safeHeaders({
      'x-kb-reason': 'bad',
      Authorization: 'Bearer x',
      'x-api-key': 'k',
      nested: { password: 'p', ok: 1, when: new Date('2026-01-01T00:00:00Z'), raw: Buffer.from('hi'), typed: { type: 'long', value: 5 } },
      list: [{ session_token: 't', n: Number.NaN }],
    });
    expect(h).toEqual({ 'x-kb-reason': 'bad', nested: { ok: 1, when: '2026-01-01T00:00:00.000Z', raw: 'hi', typed: 5 }, list: [{ n: 'NaN' }] });
  });

  it('replays without the record of the death, to the original exchange or else straight to the queue', () => {
    const kept = { 'x-death': [], 'x-first-death-reason': 'expired', 'x-last-death-queue': 'q', 'x-kb-reason': 'r', 'x-kb-queue': 'q', trace: 'abc' };
    expect(replayHeaders(kept, 7)).toEqual({ trace: 'abc', 'x-kb-replayed-from': '7' });
    expect(replayTarget({ exchange: 'kb.replies', routingKey: 'dev.d1', queue: 'kb.reply.dev.d1' })).toEqual({ exchange: 'kb.replies', routingKey: 'dev.d1' });
    expect(replayTarget({ exchange: null, routingKey: 'analyze', queue: 'kb.dispatch' })).toEqual({ exchange: '', routingKey: 'kb.dispatch' });
    expect(replayTarget({ exchange: null, routingKey: null, queue: null })).toBeNull();
  });

  it('caps what is stored and shows JSON parsed, anything else as text', () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 10, 0x61);
    expect(keptBody(big)).toMatchObject({ bytes: MAX_BODY_BYTES + 10, truncated: true });
    expect(keptBody(big).body.length).toBe(MAX_BODY_BYTES);
    expect(keptBody(Buffer.from('{}'))).toMatchObject({ bytes: 2, truncated: false });
    expect(bodyView(Buffer.from('{"a":1}'), false)).toEqual({ json: { a: 1 }, text: null });
    expect(bodyView(Buffer.from('not json'), false)).toEqual({ json: null, text: 'not json' });
    expect(bodyView(Buffer.from('{"a":'), true)).toEqual({ json: null, text: '{"a":' });
  });
});
