import net from 'node:net';
import { replies, type ProxyReply } from './proxy-replies.js';

export interface PinnedTarget {
  /** The checked name (for messages only). */
  host: string;
  port: number;
  /** The address EgressPolicy checked: connected to as is, never resolved again. */
  address: string;
  family: 4 | 6;
}

export type Upstream = { ok: true; socket: net.Socket } | { ok: false; reply: ProxyReply };

export function targetText(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * TCP connection to the pinned address. `track` receives the socket before
 * it connects, so closing the proxy also ends connections still opening.
 * Never rejects: failures come back as the reply the client should get.
 */
export function connectPinned(target: PinnedTarget, timeoutMs: number, track: (socket: net.Socket) => void): Promise<Upstream> {
  return new Promise((resolve) => {
    const text = targetText(target.host, target.port);
    // An IP literal as host: net.connect does no DNS lookup, so the pin holds.
    const socket = net.connect({ host: target.address, port: target.port, family: target.family, noDelay: true });
    track(socket);
    let settled = false;
    const settle = (result: Upstream) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect', onConnect);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => settle({ ok: false, reply: replies.timeout(text, timeoutMs) }), timeoutMs);
    const onConnect = () => settle({ ok: true, socket });
    socket.once('connect', onConnect);
    // The listener stays: an error after connecting belongs to the tunnel, and must never go unhandled.
    socket.on('error', (err: NodeJS.ErrnoException) => settle({ ok: false, reply: replies.unreachable(text, err.code ?? err.message) }));
    socket.once('close', () => settle({ ok: false, reply: replies.unreachable(text, 'closed') }));
  });
}
