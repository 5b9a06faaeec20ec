import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { KbError } from '@domaeka/core';
import type { Deadline } from './deadline.js';
import type { Hop } from './redirect.js';

/** A checked address the connection must use. */
export interface Pin {
  address: string;
  family: 4 | 6;
}

type PinnedOptions = http.RequestOptions & { pinnedAddress?: string };

/*
 * Keep-alive pools (the dispatcher calls targets at ~2,000 req/s). Node
 * keys a pool by host:port, so a socket opened to yesterday's checked
 * address would serve a name that now resolves elsewhere; the pinned
 * address joins the key so a socket is only reused for the address it was
 * opened to. Idle sockets close after 4 s, below the 5 s keep-alive of
 * common servers (Node's default), so we rarely write to a socket the
 * server is closing.
 */
class PinnedHttpAgent extends http.Agent {
  override getName(options?: PinnedOptions): string {
    return `${super.getName(options)}|${options?.pinnedAddress ?? ''}`;
  }
}

class PinnedHttpsAgent extends https.Agent {
  override getName(options?: https.RequestOptions & { pinnedAddress?: string }): string {
    return `${super.getName(options)}|${options?.pinnedAddress ?? ''}`;
  }
}

const agentOptions = { keepAlive: true, timeout: 4_000, maxFreeSockets: 256 };
export const httpAgent = new PinnedHttpAgent(agentOptions);
export const httpsAgent = new PinnedHttpsAgent(agentOptions);

/** Answers every lookup with the pinned address: DNS is never asked again between check and connect. */
function pinnedLookup(pin: Pin): LookupFunction {
  return (_host, options, callback) => {
    // Node >= 20 asks for all addresses when autoSelectFamily is on.
    if (options.all) callback(null, [{ address: pin.address, family: pin.family }]);
    else callback(null, pin.address, pin.family);
  };
}

export function unreachable(err: unknown): KbError {
  const e = err as { code?: string; message?: string };
  const detail = e.code ?? e.message ?? String(err);
  return new KbError('KB_ERR_TARGET_UNREACHABLE', `target unreachable: ${detail}`, 502);
}

export function tooLarge(maxBytes: number): KbError {
  return new KbError('KB_ERR_TARGET_TOO_LARGE', `response body over ${maxBytes} bytes`, 502);
}

/** A keep-alive socket the server closed just as we reused it; the request never reached it. */
const isStaleSocket = (req: http.ClientRequest, err: unknown) =>
  req.reusedSocket && ['ECONNRESET', 'EPIPE'].includes((err as { code?: string }).code ?? '');

export interface Exchange {
  req: http.ClientRequest;
  res: http.IncomingMessage;
}

/** Sends one hop to the pinned address and waits for the response head. */
export function sendHop(hop: Hop, pin: Pin, deadline: Deadline, retryStale = true): Promise<Exchange> {
  if (deadline.expired) return Promise.reject(deadline.error());
  const url = new URL(hop.url);
  const secure = url.protocol === 'https:';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(hop.headers)) {
    // We frame the body ourselves; a caller's framing headers could disagree with it.
    if (!['content-length', 'transfer-encoding', 'host', 'connection'].includes(name.toLowerCase())) headers[name] = value;
  }
  if (hop.body !== undefined) headers['content-length'] = String(hop.body.length);
  const options: PinnedOptions & https.RequestOptions = {
    protocol: url.protocol,
    hostname,
    port: url.port || (secure ? 443 : 80),
    path: url.pathname + url.search,
    method: hop.method,
    headers,
    agent: secure ? httpsAgent : httpAgent,
    lookup: pinnedLookup(pin),
    pinnedAddress: pin.address,
    // Certificates are verified against the name, never against the pinned IP.
    ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
  };

  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    const req = (secure ? https : http).request(options);
    const onAbort = () => fail(deadline.error());
    const fail = (err: KbError) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      req.destroy();
      reject(err);
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      resolve({ req, res });
    });
    req.on('error', (err) => {
      if (settled) return;
      if (retryStale && isStaleSocket(req, err)) {
        settled = true;
        deadline.signal.removeEventListener('abort', onAbort);
        resolve(sendHop(hop, pin, deadline, false));
        return;
      }
      fail(deadline.expired ? deadline.error() : unreachable(err));
    });
    req.end(hop.body);
  });
}

/**
 * Reads the body up to maxBytes. A declared Content-Length over the cap
 * fails before reading; otherwise bytes are counted as they stream and the
 * socket is destroyed at the first byte over (it cannot go back to the pool).
 */
export function readBody(ex: Exchange, maxBytes: number, deadline: Deadline, method: string): Promise<Buffer> {
  const { req, res } = ex;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onAbort = () => fail(deadline.error());
    const fail = (err: KbError) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      res.destroy();
      req.destroy();
      reject(err);
    };
    res.on('error', (err) => fail(deadline.expired ? deadline.error() : unreachable(err)));
    const declared = Number(res.headers['content-length']);
    if (method !== 'HEAD' && Number.isFinite(declared) && declared > maxBytes) return fail(tooLarge(maxBytes));
    if (deadline.expired) return fail(deadline.error());
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge(maxBytes));
      else chunks.push(chunk);
    });
    res.on('end', () => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks, size));
    });
    // Closed without 'end': the server hung up mid-body. (Every response closes: build the error only when it is one.)
    res.on('close', () => {
      if (!settled) fail(unreachable({ message: 'connection closed before the body was complete' }));
    });
  });
}

/** Throws away a redirect's body; small ones are drained so the socket can be reused. */
export function discard(ex: Exchange): void {
  ex.res.on('error', () => {});
  const declared = Number(ex.res.headers['content-length']);
  if (Number.isFinite(declared) && declared <= 64 * 1024) ex.res.resume();
  else {
    ex.res.destroy();
    ex.req.destroy();
  }
}
