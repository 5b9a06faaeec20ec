import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMessageFor } from '@domaeka/core';
import { waitFor } from '../../../test/support/wait.js';
import { json, logRows, startHarness, type Harness, type Seeded } from './harness.js';

describe('dispatcher: failing targets give the room a short Korean message and the log the reason', () => {
  let h: Harness;
  let a: Seeded;
  let outsider: http.Server;
  let outsiderHits = 0;

  beforeAll(async () => {
    // A live local service NOT named in EGRESS_ALLOW: it would answer if the policy let the call through.
    outsider = http.createServer((_req, res) => {
      outsiderHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"internal secret"}');
    });
    await new Promise<void>((r) => outsider.listen(0, '127.0.0.1', r));
    const outsiderPort = (outsider.address() as AddressInfo).port;

    h = await startHarness('disp-failures', {
      stub: {
        '/ok': json({ text: '정상 응답' }),
        '/hang': () => undefined,
        '/500': json({ success: false, error: 'boom' }, 500),
        '/html': (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>점검 중</html>'),
        '/huge': (_req, res) => {
          res.on('error', () => undefined);
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(1024 * 1024, 'a');
          res.write('{"text":"');
          for (let i = 0; i < 10; i++) res.write(chunk);
          res.end('"}');
        },
        '/declined': json({ success: false, response: { text: '주문 번호를 찾을 수 없어요' }, error: 'NOT_FOUND' }),
        '/declined-silent': json({ success: false, error: { code: 'E1' } }),
        '/shape': json({ hello: 'world' }),
        // An allowed target that redirects to a loopback service nobody allowed.
        '/bounce': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${outsiderPort}/admin` }).end(),
      },
    });
    a = await h.seed.botWithDevice();
    const url = (p: string) => h.stub.url(p);
    await h.seed.command(a.tenantId, { command: '정상', url: url('/ok') });
    await h.seed.command(a.tenantId, { command: '느림', url: url('/hang'), timeoutMs: 300 });
    await h.seed.command(a.tenantId, { command: '오류', url: url('/500') });
    await h.seed.command(a.tenantId, { command: '깨짐', url: url('/html') });
    await h.seed.command(a.tenantId, { command: '대용량', url: url('/huge') });
    await h.seed.command(a.tenantId, { command: '모양', url: url('/shape') });
    await h.seed.command(a.tenantId, { command: '내부', url: `http://127.0.0.1:${outsiderPort}/admin` });
    await h.seed.command(a.tenantId, { command: '메타', url: 'http://169.254.169.254/latest/meta-data/' });
    await h.seed.command(a.tenantId, { command: '매핑', url: `http://[::ffff:127.0.0.1]:${outsiderPort}/admin` });
    // A name (resolved by the system resolver) that lands on a private address.
    await h.seed.command(a.tenantId, { command: '이름', url: `http://localhost:${outsiderPort}/admin` });
    await h.seed.command(a.tenantId, { command: '우회', url: url('/bounce') });
    await h.seed.command(a.tenantId, { command: '거절', url: url('/declined') });
    await h.seed.command(a.tenantId, { command: '거절2', url: url('/declined-silent') });
    await h.seed.command(a.tenantId, { command: '파이썬', sandbox: true });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((r) => outsider?.close(() => r()));
  });

  async function ask(text: string) {
    const replies = await h.watchRoute(`dev.${a.deviceId}`);
    const id = await h.analyze(a, { text });
    const reply = await waitFor(() => replies.find((r) => r.id === id), { what: `reply to ${text}` });
    return { id, reply: reply.payload };
  }

  it.each([
    ['느림', 'KB_ERR_TIMEOUT', null],
    ['오류', 'KB_ERR_TARGET_STATUS', 500],
    ['깨짐', 'KB_ERR_TARGET_INVALID', 200],
    ['모양', 'KB_ERR_TARGET_INVALID', 200],
    ['대용량', 'KB_ERR_TARGET_TOO_LARGE', null],
    ['파이썬', 'KB_ERR_NO_RUNNER', null],
  ])('%s -> %s; the next message is answered normally', async (text, code, status) => {
    const failed = await ask(text);
    expect(failed.reply.text).toBe(roomMessageFor(code));
    const [log, ...more] = await logRows(h.pool, failed.id);
    expect(more).toHaveLength(0);
    expect(log).toMatchObject({ error_code: code, status_code: status });
    expect(log!.error_message).toBeTruthy();

    const next = await ask('정상');
    expect(next.reply.text).toBe('정상 응답');
  });

  it.each([
    ['내부', 'a loopback service not in EGRESS_ALLOW'],
    ['메타', 'the cloud metadata address'],
    ['매핑', 'an IPv4-mapped IPv6 loopback'],
    ['이름', 'a name resolving to a loopback address'],
    ['우회', 'a redirect from an allowed target to a loopback service'],
  ])('%s: refuses %s', async (text) => {
    const { id, reply } = await ask(text);
    expect(reply.text).toBe(roomMessageFor('KB_ERR_EGRESS_DENIED'));
    const [log] = await logRows(h.pool, id);
    expect(log).toMatchObject({ error_code: 'KB_ERR_EGRESS_DENIED', status_code: null });
    expect(outsiderHits).toBe(0);
  });

  it('passes on the text of a success:false answer, or the generic Korean error without one', async () => {
    const withText = await ask('거절 99');
    expect(withText.reply.text).toBe('주문 번호를 찾을 수 없어요');
    expect((await logRows(h.pool, withText.id))[0]).toMatchObject({ status_code: 200, error_code: 'KB_ERR_TARGET_FAILED', error_message: 'NOT_FOUND' });

    const without = await ask('거절2');
    expect(without.reply.text).toBe(roomMessageFor('KB_ERR_INTERNAL'));
  });
});
