import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { startWeb, type WebServer } from './browser.js';

/**
 * web/server.js in front of a stand-in API: what the browser relies on
 * from the proxy (one origin for pages, /api, /socket.io and /kakao; cookies,
 * status, Host kept, X-Forwarded-For added; a WebSocket through it; 502
 * when the API is gone; SIGTERM with a socket open still exits).
 */
describe('web server proxy', () => {
  let api: http.Server;
  let apiPort: number;
  let web: WebServer;
  let socket: Socket | null = null;

  beforeAll(async () => {
    api = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.setHeader('set-cookie', ['kb_session=s1; HttpOnly; Path=/', 'kb_csrf=c1; Path=/']);
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url, method: req.method, body, host: req.headers.host, xff: req.headers['x-forwarded-for'], csrf: req.headers['x-csrf-token'] }));
      });
    });
    const io = new Server(api, { path: '/socket.io' });
    io.on('connection', (s) => s.emit('hello', { host: s.handshake.headers.host, xff: s.handshake.headers['x-forwarded-for'] }));
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiPort = (api.address() as AddressInfo).port;
    web = await startWeb(apiPort);
  });

  afterAll(async () => {
    socket?.disconnect();
    await web?.stop();
    if (api?.listening) {
      api.closeAllConnections();
      await new Promise((r) => api.close(r));
    }
  });

  it('passes /api through with status, both cookies, the body, Host kept and X-Forwarded-For added', async () => {
    const res = await fetch(`${web.url}/api/v1/commands?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': 'c1' },
      body: JSON.stringify({ command: '날씨' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.getSetCookie()).toEqual(['kb_session=s1; HttpOnly; Path=/', 'kb_csrf=c1; Path=/']);
    const seen = (await res.json()) as { xff: string };
    expect(seen).toMatchObject({ url: '/api/v1/commands?x=1', method: 'POST', body: '{"command":"날씨"}', host: new URL(web.url).host, csrf: 'c1' });
    expect(seen.xff).toMatch(/127\.0\.0\.1/);
    // Anything else is the web app.
    const page = await fetch(`${web.url}/login`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html lang="ko">');
  });

  it('passes the Kakao channel skill server (/kakao/) through: the skill URL the bot page shows is on this origin', async () => {
    const res = await fetch(`${web.url}/kakao/skill/abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userRequest":{}}' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ url: '/kakao/skill/abc', method: 'POST', body: '{"userRequest":{}}', host: new URL(web.url).host });
  });

  it('carries a socket.io WebSocket, and exits on SIGTERM with it open', async () => {
    socket = connect(web.url, { path: '/socket.io', transports: ['websocket'], reconnection: false });
    const hello = await new Promise<{ host: string; xff: string }>((resolve, reject) => {
      socket!.once('hello', resolve);
      socket!.once('connect_error', reject);
    });
    expect(hello.host).toBe(new URL(web.url).host);
    expect(hello.xff).toMatch(/127\.0\.0\.1/);

    const closed = new Promise((r) => socket!.once('disconnect', r));
    const started = Date.now();
    await web.stop();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers 502 KB_ERR_UNAVAILABLE when the API is down', async () => {
    api.closeAllConnections();
    await new Promise((r) => api.close(r));
    const down = await startWeb(apiPort);
    try {
      const res = await fetch(`${down.url}/api/v1/me`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('KB_ERR_UNAVAILABLE');
    } finally {
      await down.stop();
    }
  });
});
