import { describe, expect, it } from 'vitest';
import { ConnectionCaps, sourceKey, type CapLimits, type CapTicket } from './connection-caps.js';

const limits: CapLimits = { maxConnections: 6, maxConnectionsPerIp: 3, maxUnsignedPerIp: 2, maxConnectionsPerBot: 3 };

function admitted(caps: ConnectionCaps, ip: string): CapTicket {
  const r = caps.admit(ip);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.ticket;
}

describe('ConnectionCaps', () => {
  it('refuses a source over its unsigned cap until one of them signs', () => {
    const caps = new ConnectionCaps(limits);
    const a = admitted(caps, '10.0.0.1');
    admitted(caps, '10.0.0.1');
    expect(caps.admit('10.0.0.1')).toEqual({ ok: false, reason: 'cap_ip_unsigned' });
    caps.markSigned(a);
    expect(caps.unsigned).toBe(1);
    expect(caps.admit('10.0.0.1').ok).toBe(true);
    expect(caps.open).toBe(3);
  });

  it('refuses a source over its cap, signed or not, and counts other sources apart', () => {
    const caps = new ConnectionCaps(limits);
    for (let i = 0; i < 3; i++) caps.markSigned(admitted(caps, '10.0.0.1'));
    expect(caps.admit('10.0.0.1')).toEqual({ ok: false, reason: 'cap_ip' });
    expect(caps.admit('10.0.0.2').ok).toBe(true);
  });

  it('refuses past the total cap, before the per-source caps', () => {
    const caps = new ConnectionCaps(limits);
    for (const ip of ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2', '10.0.0.3', '10.0.0.3']) admitted(caps, ip);
    expect(caps.admit('10.0.0.4')).toEqual({ ok: false, reason: 'cap_total' });
    expect(caps.admit('10.0.0.1')).toEqual({ ok: false, reason: 'cap_total' });
  });

  it('gives every count back at release, once, and forgets empty sources', () => {
    const caps = new ConnectionCaps(limits);
    const a = admitted(caps, '10.0.0.1');
    const b = admitted(caps, '10.0.0.1');
    caps.markSigned(b);
    caps.joinBot(a, 'bot', 'd1');
    caps.release(a);
    caps.release(a);
    caps.markSigned(a); // after release: no effect
    expect([caps.open, caps.unsigned, caps.sources]).toEqual([1, 0, 1]);
    caps.release(b);
    expect([caps.open, caps.unsigned, caps.sources]).toEqual([0, 0, 0]);
    // The bot's place was given back too: three new members fit.
    for (const d of ['x', 'y', 'z']) expect(caps.joinBot(admitted(caps, `10.0.1.${d.charCodeAt(0)}`), 'bot', d)).toEqual({ ok: true, evicted: null });
  });

  it('evicts the oldest unsigned member of a full bot, and refuses only when every member signed', () => {
    const caps = new ConnectionCaps({ ...limits, maxConnections: 100, maxConnectionsPerIp: 100, maxUnsignedPerIp: 100 });
    const [s1, u1, u2] = ['d1', 'd2', 'd3'].map((d) => {
      const t = admitted(caps, '10.0.0.1');
      expect(caps.joinBot(t, 'bot', d)).toEqual({ ok: true, evicted: null });
      return t;
    });
    caps.markSigned(s1!);
    const n1 = admitted(caps, '10.0.0.1');
    expect(caps.joinBot(n1, 'bot', 'd4')).toEqual({ ok: true, evicted: u1 });
    // Evicted: out of the bot, still an open connection until it closes.
    expect(caps.open).toBe(4);
    caps.release(u1!);
    const n2 = admitted(caps, '10.0.0.1');
    expect(caps.joinBot(n2, 'bot', 'd5')).toEqual({ ok: true, evicted: u2 });
    caps.markSigned(n1);
    caps.markSigned(n2);
    expect(caps.joinBot(admitted(caps, '10.0.0.1'), 'bot', 'd6')).toEqual({ ok: false, reason: 'cap_bot' });
    // Another bot is not affected.
    expect(caps.joinBot(admitted(caps, '10.0.0.1'), 'other', 'd6').ok).toBe(true);
  });

  it('lets a signed device of a full bot reconnect once (its old socket may be dead), and the next arrival evicts that one', () => {
    const caps = new ConnectionCaps({ ...limits, maxConnections: 100, maxConnectionsPerIp: 100, maxUnsignedPerIp: 100 });
    for (const d of ['d1', 'd2', 'd3']) {
      const t = admitted(caps, '10.0.0.1');
      caps.joinBot(t, 'bot', d);
      caps.markSigned(t);
    }
    const again = admitted(caps, '10.0.0.1');
    expect(caps.joinBot(again, 'bot', 'd2')).toEqual({ ok: true, evicted: null });
    expect(caps.joinBot(admitted(caps, '10.0.0.1'), 'bot', 'd2')).toEqual({ ok: true, evicted: again });
  });
});

describe('sourceKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:192.168.0.7', '192.168.0.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s -> %s', (input, key) => {
    expect(sourceKey(input)).toBe(key);
  });
});
