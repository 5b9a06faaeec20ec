import http from 'node:http';
import type { Socket } from 'node:net';
import { replies, sendReply, type ProxyReply } from './proxy-replies.js';
import { endToEndHeaders, type HeaderMap } from './proxy-target.js';
import { targetText } from './upstream.js';

/**
 * One plain-HTTP request (absolute-form) sent over a socket already
 * connected to the checked, pinned address. The upstream connection serves
 * this request only (`Connection: close`); the client's connection to the
 * proxy may stay open, and its next request is checked again from scratch.
 */
export function forwardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  upstream: Socket,
  idleMs: number,
): void {
  const headers: HeaderMap = endToEndHeaders(req.rawHeaders, true);
  // The checked authority is the virtual host: a Host header naming another site behind the same address is not honoured.
  headers.host = url.host;
  headers.connection = 'close';
  // Node de-chunked the body; chunked again, so the upstream sees where it ends.
  if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';

  const text = targetText(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || 80));
  const outgoing = http.request({
    // Without an agent, Node takes this connection as is: no lookup, no pool.
    createConnection: () => upstream,
    method: req.method,
    path: `${url.pathname}${url.search}`,
    headers,
    setHost: false,
  });

  let failed = false;
  const fail = (reply: ProxyReply) => {
    if (failed) return;
    failed = true;
    upstream.destroy();
    outgoing.destroy();
    if (!res.headersSent) sendReply(res, reply);
    else res.destroy();
  };
  outgoing.on('error', () => fail(replies.unreachable(text, 'connection lost')));
  upstream.setTimeout(idleMs, () => fail(replies.idle(text, idleMs)));

  outgoing.on('response', (incoming) => {
    incoming.on('error', () => res.destroy());
    res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, endToEndHeaders(incoming.rawHeaders, false));
    incoming.pipe(res);
  });

  // The client left (or the proxy closed): nothing is waiting for the answer.
  res.on('close', () => {
    if (!res.writableFinished) {
      outgoing.destroy();
      upstream.destroy();
    }
  });
  req.on('error', () => outgoing.destroy());
  req.pipe(outgoing);
}
