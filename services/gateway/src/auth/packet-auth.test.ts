import { signBot } from '@domaeka/broker';
import { describe, expect, it } from 'vitest';
import { PacketAuthenticator } from './packet-auth.js';
import { ReplayCache } from './replay-cache.js';

const T = 1732500000000;
const ctx = { botName: 'LOA.i', deviceID: 'dev1', secretKey: 'k3y', salt: 's4lt' };

function setup(max = 100) {
  const clock = { t: T, now() { return this.t; } };
  const auth = new PacketAuthenticator(clock, new ReplayCache(clock, max));
  return { clock, auth };
}

function signed(over: Record<string, unknown> = {}) {
  const fields = { clientType: 'MessengerBotR', botName: 'LOA.i', deviceUUID: 'dev1', macAddress: 'unknown', ipAddress: '10.0.0.2', timestamp: T };
  return { ...fields, deviceID: 'dev1', version: '3.3.3', signature: signBot(fields, 'k3y', 's4lt'), ...over };
}

describe('PacketAuthenticator', () => {
  it('accepts the spec test vector', () => {
    const { auth } = setup();
    const a = signed();
    expect(a.signature).toBe('01c95b5bcdd61c67b2257db60a3edbdbf4df32215b66efb3c73b23ac01a6d145');
    expect(auth.verify(a, ctx, 'message', 'l:1')).toMatchObject({ ok: true });
  });

  it('names each reason', () => {
    const { auth } = setup();
    expect(auth.verify(undefined, ctx, 'message', '')).toEqual({ ok: false, reason: 'missing_auth' });
    expect(auth.verify(signed({ botName: 'x' }), ctx, 'message', '')).toEqual({ ok: false, reason: 'bot_mismatch' });
    expect(auth.verify(signed({ deviceUUID: 'x' }), ctx, 'message', '')).toEqual({ ok: false, reason: 'device_mismatch' });
    expect(auth.verify(signed({ deviceID: 'x' }), ctx, 'message', '')).toEqual({ ok: false, reason: 'device_mismatch' });
    expect(auth.verify(signed({ timestamp: T - 5 * 60_000 - 1 }), ctx, 'message', '')).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(auth.verify(signed({ macAddress: 'aa:bb' }), ctx, 'message', '')).toEqual({ ok: false, reason: 'bad_signature' });
    expect(auth.verify(signed({ signature: 'zz' }), ctx, 'message', '')).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('treats null mac/ip like the phone JS join does (as empty strings)', () => {
    const { auth } = setup();
    const fields = { clientType: 'MessengerBotR', botName: 'LOA.i', deviceUUID: 'dev1', macAddress: '', ipAddress: '', timestamp: T };
    const a = { ...fields, macAddress: null, ipAddress: null, signature: signBot(fields, 'k3y', 's4lt') };
    expect(auth.verify(a, ctx, 'pong', '')).toMatchObject({ ok: true });
  });

  it('refuses a replay only after the first was accepted; same signature with other content passes', () => {
    const { auth } = setup();
    const a = signed();
    const v1 = auth.verify(a, ctx, 'message', 'l:1');
    // Verified but never accepted (e.g. lost in a disconnect): still acceptable.
    expect(auth.verify(a, ctx, 'message', 'l:1')).toMatchObject({ ok: true });
    if (!v1.ok) throw new Error('expected ok');
    expect(auth.accept(v1)).toBe(true);
    expect(auth.verify(a, ctx, 'message', 'l:1')).toEqual({ ok: false, reason: 'replayed' });
    expect(auth.verify(a, ctx, 'message', 'l:2')).toMatchObject({ ok: true });
    expect(auth.verify(a, ctx, 'pong', '')).toMatchObject({ ok: true });
    auth.release(v1.replayKey);
    expect(auth.verify(a, ctx, 'message', 'l:1')).toMatchObject({ ok: true });
  });

  it('forgets keys once their timestamp has left the window', () => {
    const { auth, clock } = setup();
    const v = auth.verify(signed(), ctx, 'message', 'l:1');
    if (!v.ok) throw new Error('expected ok');
    auth.accept(v);
    clock.t = T + 5 * 60_000 + 2;
    // Stale now anyway: the window, not the cache, refuses it.
    expect(auth.verify(signed(), ctx, 'message', 'l:1')).toEqual({ ok: false, reason: 'stale_timestamp' });
  });
});

describe('ReplayCache', () => {
  it('stays within its bound and sweeps expired entries', () => {
    const clock = { t: 0, now() { return this.t; } };
    const c = new ReplayCache(clock, 3);
    for (let i = 0; i < 10; i++) c.add(`k${i}`, 100);
    expect(c.size).toBe(3);
    expect(c.has('k9')).toBe(true);
    expect(c.has('k0')).toBe(false);
    clock.t = 200;
    c.sweep();
    expect(c.size).toBe(0);
  });
});
