import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../support/http-stub.js';
import { connectPhone, type Phone, type PhoneIdentity } from '../support/phone.js';
import { startStack, TenantClient, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 13, hole 3: the gateway held unauthenticated connections (a phone
 * that handshakes with a known bot name and never signs stayed open for
 * minutes) and had no connection caps (300 accepted from one address).
 * Real stack: API, gateway and dispatcher on the real broker and database.
 * Small caps and a 1.5 s signing deadline are configured so each case is
 * reached with a handful of sockets. Sources other than 127.0.0.1 are other
 * loopback addresses (127.0.0.2, ...), which Linux routes to `lo`.
 */
const DEADLINE_MS = 1500;
const PER_IP = 3;
const UNSIGNED_PER_IP = 2;
const TOTAL = 6;

/** A bare socket from a chosen source address that collects the server's lines (for connections that never sign). */
class RawClient {
  readonly lines: Record<string, any>[] = [];
  closed = false;
  private buf = '';
  private readonly closedP: Promise<void>;
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line.slice(0, line.lastIndexOf('}') + 1)));
        } catch {
          /* not JSON: ignored as the phone does */
        }
      }
    });
    this.closedP = new Promise((r) =>
      socket.once('close', () => {
        this.closed = true;
        r();
      }),
    );
  }

  static open(port: number, localAddress: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    return Promise.race([this.closedP, new Promise<void>((_, rej) => setTimeout(() => rej(new Error(`still open after ${timeoutMs} ms`)), timeoutMs).unref())]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('hole 3: the gateway closes connections that never sign, and caps connections per IP and in total', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { id: string; name: string; secretKey: string; salt: string };
  const phones: Phone[] = [];
  const raws: RawClient[] = [];
  /** The signed, approved phone of the first case; it stays connected through every case. */
  let good: Phone;
  let logSeq = 5000;

  const identity = (deviceID: string): PhoneIdentity => ({ botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt });
  const counted = () => stack.gateway.stats().countedConnections;

  /** A phone from 127.0.0.1 that handshakes and signs its pong at once; resolved when the gateway counts it. */
  async function signedPhone(deviceID: string): Promise<Phone> {
    const before = counted();
    const p = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    phones.push(p);
    await p.handshake(identity(deviceID));
    await waitFor(() => counted() > before, { what: `${deviceID} counted` });
    return p;
  }

  async function answered(p: Phone, deviceID: string): Promise<string> {
    p.sendMessage({ room: '보안방', channelId: '313', text: `핑 ${deviceID}`, logId: String(logSeq++) });
    return p.nextReply((t) => t.includes(deviceID), 15_000);
  }

  async function raw(from: string): Promise<RawClient> {
    const r = await RawClient.open(stack.gateway.bridgePort, from);
    raws.push(r);
    return r;
  }

  beforeAll(async () => {
    stack = await startStack('h13-3-gateway', { '/pong': (req, res) => json({ text: `퐁 ${String(req.json?.parameters?.[0])}` })(req, res) }, {
      env: {
        GATEWAY_SIGN_DEADLINE_MS: String(DEADLINE_MS),
        GATEWAY_MAX_CONNECTIONS: String(TOTAL),
        GATEWAY_MAX_CONNECTIONS_PER_IP: String(PER_IP),
        GATEWAY_MAX_UNSIGNED_PER_IP: String(UNSIGNED_PER_IP),
        // The bare sockets of the last two cases stay unsigned across both; the handshake timeout must not end them.
        BRIDGE_HANDSHAKE_TIMEOUT_MS: '60000',
      },
    });
    tenant = await TenantClient.signup(stack.api, 'h13-3@shop.example');
    bot = await tenant.ok('POST', '/bots', { name: 'h13-3-bot' });
    await tenant.ok('POST', '/commands', { command: '핑', pattern: '^핑\\s+(\\S+)', target: { type: 'http', url: stack.stub.url('/pong') } });
  });

  afterAll(async () => {
    for (const p of phones) p.destroy();
    for (const r of raws) r.destroy();
    await stack?.close();
  });

  it('closes a connection that handshook with a known bot but never signed, with a Korean notice; a signed phone of the same bot stays and is answered', async () => {
    good = await signedPhone('h3-good');
    await tenant.approveDevice(bot.id, 'h3-good');
    expect(await answered(good, 'h3-good')).toBe('퐁 h3-good');

    const silent = await connectPhone('127.0.0.1', stack.gateway.bridgePort, { autoPong: false });
    phones.push(silent);
    const t0 = Date.now();
    const hs = await silent.handshake(identity('h3-silent'));
    expect(hs).toMatchObject({ success: true, approved: false });
    await silent.waitClosed(DEADLINE_MS + 8000);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    const notice = silent.packets.find((p) => p.event === 'error');
    expect(notice?.data).toMatchObject({ code: 'SIGN_TIMEOUT' });
    expect(notice?.data.message).toMatch(/^1\.5초 안에 서명된 패킷이 오지 않아 연결을 닫습니다/);
    expect(stack.gateway.stats().refused.sign_deadline).toBe(1);
    // No device row for a connection that never signed.
    const { rows } = await stack.pool.query('select count(*)::int as n from devices where device_key = $1', ['h3-silent']);
    expect(rows[0].n).toBe(0);

    // The signed phone, open since before, still counts and is answered.
    expect(good.closed).toBe(false);
    expect(await answered(good, 'h3-good')).toBe('퐁 h3-good');
  });

  it(`refuses connection ${PER_IP + 1} from one address with TOO_MANY_CONNECTIONS, while the earlier ones still work`, async () => {
    // h3-good from the first case is the first of 127.0.0.1's three.
    const second = await signedPhone('h3-ip-2');
    await signedPhone('h3-ip-3');
    const over = await raw('127.0.0.1');
    await over.waitClosed();
    expect(over.lines).toEqual([expect.objectContaining({ event: 'error', data: expect.objectContaining({ code: 'TOO_MANY_CONNECTIONS' }) })]);
    expect(over.lines[0]!.data.message).toMatch(/^이 IP 주소의 연결이 너무 많습니다/);
    expect(stack.gateway.stats().refused.cap_ip).toBe(1);

    await tenant.approveDevice(bot.id, 'h3-ip-2');
    expect(await answered(second, 'h3-ip-2')).toBe('퐁 h3-ip-2');
    expect(await answered(good, 'h3-good')).toBe('퐁 h3-good');
  });

  it(`refuses unsigned connection ${UNSIGNED_PER_IP + 1} from one address before its handshake`, async () => {
    const a = await raw('127.0.0.2');
    await raw('127.0.0.2');
    const over = await raw('127.0.0.2');
    await over.waitClosed();
    expect(over.lines[0]).toMatchObject({ event: 'error', data: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(over.lines[0]!.data.message).toMatch(/^이 IP 주소에서 인증되지 않은 연결이 너무 많습니다/);
    expect(stack.gateway.stats().refused.cap_ip_unsigned).toBe(1);
    expect(a.closed).toBe(false);
  });

  it(`refuses connection ${TOTAL + 1} in total, from a fresh address, while the signed phones still work`, async () => {
    // Open: three signed from 127.0.0.1, two unsigned from 127.0.0.2.
    await waitFor(() => stack.gateway.stats().connections === 5, { what: 'five open connections' });
    await raw('127.0.0.3');
    const over = await raw('127.0.0.4');
    await over.waitClosed();
    expect(over.lines[0]).toMatchObject({ event: 'error', data: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(over.lines[0]!.data.message).toMatch(/^게이트웨이의 연결 수가 한도에 도달했습니다/);
    expect(stack.gateway.stats().refused.cap_total).toBe(1);
    expect(await answered(good, 'h3-good')).toBe('퐁 h3-good');
  });
});
