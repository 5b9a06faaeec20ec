#!/usr/bin/env node
// The web app's server: the SvelteKit build (adapter-node's handler) and, on
// the same origin, the API (`/api/*`), its socket.io (`/socket.io/*`,
// WebSocket upgrade included) and the Kakao channel's skill server
// (`/kakao/*`), so the session cookie, the CSRF cookie and the socket
// handshake all stay first-party. Plain Node, no dependencies.
import http from 'node:http';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { securityHeaders } from './security-headers.js';

const here = dirname(fileURLToPath(import.meta.url));
const handlerPath = resolve(here, 'build/handler.js');
if (!existsSync(handlerPath)) {
  console.error('✖ web/build 가 없습니다 / no web build: run `npm run build -w @domaeka/web` first');
  process.exit(1);
}
const { handler } = await import(pathToFileURL(handlerPath).href);

const apiUrl = new URL(process.env.API_URL || `http://127.0.0.1:${process.env.API_PORT || 8080}`);
const port = Number(process.env.WEB_PORT ?? 3000);
const host = process.env.WEB_HOST || '127.0.0.1';
// Shared with the API (WEB_PROXY_SECRET there too; `npm start` makes one per launch): with it the API
// believes the browser address this server appends to X-Forwarded-For; without it every browser is this server.
const proxySecret = (process.env.WEB_PROXY_SECRET ?? '').trim();
const PROXY_SECRET_HEADER = 'x-kb-proxy-secret';

// Connection-scoped headers are not forwarded (RFC 9110 7.6.1); Node frames the bodies itself.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

// `/kakao/` is the official KakaoTalk channel's skill server (Kakao i Open Builder calls it on this public origin).
const proxied = (url = '') =>
  url === '/api' || url.startsWith('/api/') || url.startsWith('/socket.io/') || url.startsWith('/socket.io?') || url.startsWith('/kakao/');

/** The browser's headers for the API: Host kept (the API checks a socket's Origin against it), X-Forwarded-* added. */
function forwardHeaders(req) {
  const headers = {};
  // A browser's own x-kb-proxy-secret never passes (it would be a guess at ours).
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && k !== PROXY_SECRET_HEADER && v !== undefined) headers[k] = v;
  if (proxySecret) headers[PROXY_SECRET_HEADER] = proxySecret;
  const peer = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${prior}, ${peer}` : peer;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = req.socket.encrypted ? 'https' : 'http';
  return headers;
}

function unavailable(res) {
  if (res.headersSent) return res.destroy();
  res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: { code: 'KB_ERR_UNAVAILABLE', message: 'API 서버에 연결할 수 없습니다 / the API does not answer' } }));
}

function proxy(req, res) {
  const upstream = http.request(
    { protocol: apiUrl.protocol, hostname: apiUrl.hostname, port: apiUrl.port, method: req.method, path: req.url, headers: forwardHeaders(req) },
    (answer) => {
      const headers = {};
      // Set-Cookie stays an array: the session and CSRF cookies arrive together.
      for (const [k, v] of Object.entries(answer.headers)) if (!HOP.has(k) && v !== undefined) headers[k] = v;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => unavailable(res));
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

const sockets = new Set();

/** A WebSocket upgrade: the request head written to the API as is (plus X-Forwarded-*), then bytes both ways. */
function tunnel(req, client, head) {
  const upstream = net.connect(Number(apiUrl.port || 80), apiUrl.hostname, () => {
    const headers = forwardHeaders(req);
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head?.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  sockets.add(client);
  const end = () => {
    sockets.delete(client);
    upstream.destroy();
    client.destroy();
  };
  upstream.on('error', () => {
    if (!client.destroyed && upstream.bytesRead === 0) client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    end();
  });
  upstream.on('close', end);
  client.on('error', end);
  client.on('close', end);
}

/** Every response: the security headers (security-headers.js); a page's own CSP (with its nonce) and the API's replace these. */
function withSecurityHeaders(res) {
  for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v);
}

const server = http.createServer((req, res) => {
  withSecurityHeaders(res);
  return proxied(req.url) ? proxy(req, res) : handler(req, res);
});
server.on('upgrade', (req, socket, head) => {
  if (proxied(req.url)) return tunnel(req, socket, head);
  socket.destroy();
});

server.listen(port, host, () => {
  const { port: bound } = server.address();
  console.log(`web listening on http://${host}:${bound} (API ${apiUrl.origin})`);
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`web: ${signal}, closing`);
  // No new connections; idle keep-alives and open sockets (live runs) go now, requests in flight may finish.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
