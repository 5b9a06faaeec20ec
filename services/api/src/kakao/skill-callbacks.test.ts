import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressPolicy } from '@domaeka/calls';
import { createLogger } from '@domaeka/core';
import { KakaoMetrics, SkillCallbacks } from './skill-callbacks.js';
import { textResponse } from './skill-response.js';

/**
 * The callback POST against a real local server standing in for Kakao's
 * callback endpoint (127.0.0.1, let through as EGRESS_ALLOW would): sent
 * once, never followed or repeated, and every failure logged with its reason.
 */
describe('SkillCallbacks', () => {
  const hits: { path: string; method: string; type: string | undefined; body: string }[] = [];
  let server: http.Server;
  let origin = '';
  let policy: EgressPolicy;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', method: req.method ?? '', type: req.headers['content-type'], body });
        if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"taskId":"t1","status":"SUCCESS","message":"OK"}');
        else if (req.url === '/refused') res.writeHead(200, { 'content-type': 'application/json' }).end('{"taskId":"t2","status":"FAIL","message":"callback expired"}');
        else if (req.url === '/moved') res.writeHead(302, { location: '/ok' }).end();
        else res.writeHead(500).end('oops');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;
    policy = new EgressPolicy({ allow: [`127.0.0.1:${port}`] });
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** A sender whose log lines and counters the test reads. */
  function sender(p: EgressPolicy = policy) {
    const lines: Record<string, unknown>[] = [];
    const registry = new Registry();
    const logger = createLogger('kakao-test', 'info', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const callbacks = new SkillCallbacks(p, logger, new KakaoMetrics(registry));
    const counted = async (outcome: string) =>
      (await registry.getSingleMetric('kb_api_kakao_callbacks_total')!.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    return { callbacks, lines, counted };
  }
  const about = { eventId: 'e-1', botId: 'b-1' };
  const answer = textResponse('계산 끝: 6');
  const soon = () => Date.now() + 10_000;

  it('POSTs the SkillResponse once as JSON and counts it delivered', async () => {
    const s = sender();
    const before = hits.length;
    expect(await s.callbacks.send(`${origin}/ok`, answer, soon(), about)).toBe(true);
    expect(hits.slice(before)).toEqual([{ path: '/ok', method: 'POST', type: 'application/json; charset=utf-8', body: JSON.stringify(answer) }]);
    expect(await s.counted('delivered')).toBe(1);
  });

  it('logs each failure with its reason and counts it: an error status, Kakao refusing, a redirect, a refused address, an expired URL', async () => {
    const s = sender();
    const before = hits.length;
    expect(await s.callbacks.send(`${origin}/broken`, answer, soon(), about)).toBe(false);
    expect(await s.callbacks.send(`${origin}/refused`, answer, soon(), about)).toBe(false);
    // One POST per URL: a redirect is not followed (that would be a second request).
    expect(await s.callbacks.send(`${origin}/moved`, answer, soon(), about)).toBe(false);
    expect(hits.slice(before).map((h) => h.path)).toEqual(['/broken', '/refused', '/moved']);

    const strict = sender(new EgressPolicy({ allow: [] }));
    expect(await strict.callbacks.send(`${origin}/ok`, answer, soon(), about)).toBe(false);
    expect(await s.callbacks.send(`${origin}/ok`, answer, Date.now() - 1, about)).toBe(false);
    expect(hits.slice(before).map((h) => h.path)).toEqual(['/broken', '/refused', '/moved']);

    const reasons = [...s.lines, ...strict.lines].filter((l) => l.level === 40).map((l) => [l.code, l.reason]);
    expect(reasons).toEqual([
      ['KB_ERR_TARGET_STATUS', 'the callback URL answered HTTP 500'],
      ['KB_ERR_TARGET_FAILED', 'Kakao refused the callback: callback expired'],
      ['KB_ERR_TARGET_UNREACHABLE', 'more than 0 redirects'],
      ['KB_ERR_TIMEOUT', 'the callback URL expired before the answer was ready'],
      ['KB_ERR_EGRESS_DENIED', expect.stringContaining('refused')],
    ]);
    for (const l of [...s.lines, ...strict.lines].filter((x) => x.level === 40)) expect(l).toMatchObject(about);
    expect(await s.counted('failed')).toBe(4);
    expect(await strict.counted('failed')).toBe(1);
  });
});
