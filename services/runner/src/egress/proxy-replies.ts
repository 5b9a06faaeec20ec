import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy answers instead of a tunnel. Tenant code reads these
 * (requests raises ProxyError with the status line; the body shows in
 * tracebacks), so the text is Korean first, then English after " / ".
 * `denied` marks a policy refusal: those carry X-Kb-Egress-Denied so the
 * in-container runtime can tell "not allowed" from "not reachable".
 */
export interface ProxyReply {
  status: number;
  korean: string;
  /** English reason; also the X-Kb-Egress-Denied value when denied. */
  reason: string;
  denied?: boolean;
}

export const replies = {
  noGrant: (): ProxyReply => ({
    status: 403,
    korean: '이 실행 환경에는 외부 접속이 허용되지 않습니다',
    reason: 'no network access for this sandbox (plan without egress)',
    denied: true,
  }),
  denied: (reason: string): ProxyReply => ({
    status: 403,
    korean: '외부 접속이 허용되지 않은 주소입니다',
    reason,
    denied: true,
  }),
  unresolved: (reason: string): ProxyReply => ({ status: 502, korean: '주소를 찾을 수 없습니다', reason }),
  unreachable: (target: string, code: string): ProxyReply => ({
    status: 502,
    korean: '대상 서버에 연결할 수 없습니다',
    reason: `could not connect to ${target} (${code})`,
  }),
  timeout: (target: string, ms: number): ProxyReply => ({
    status: 504,
    korean: '대상 서버가 제시간에 응답하지 않았습니다',
    reason: `no connection to ${target} within ${ms} ms`,
  }),
  idle: (target: string, ms: number): ProxyReply => ({
    status: 504,
    korean: '대상 서버가 제시간에 응답하지 않았습니다',
    reason: `${target} sent nothing for ${ms} ms`,
  }),
  resolveTimeout: (host: string, ms: number): ProxyReply => ({
    status: 504,
    korean: '주소 확인이 제시간에 끝나지 않았습니다',
    reason: `resolving ${host} took over ${ms} ms`,
  }),
  busy: (max: number): ProxyReply => ({
    status: 503,
    korean: '동시에 열 수 있는 외부 연결 수를 넘었습니다',
    reason: `too many egress connections at once (max ${max})`,
  }),
  badRequest: (reason: string): ProxyReply => ({ status: 400, korean: '잘못된 프록시 요청입니다', reason }),
  headTimeout: (ms: number): ProxyReply => ({
    status: 408,
    korean: '요청을 제시간에 받지 못했습니다',
    reason: `no complete request head within ${ms} ms`,
  }),
};

/** Header values must be one line of visible ASCII; a reason may quote what the client sent. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function bodyOf(reply: ProxyReply): string {
  const english = reply.denied ? `egress refused: ${reply.reason}` : reply.status === 400 || reply.status === 408 ? reply.reason : `egress failed: ${reply.reason}`;
  return `${reply.korean} / ${english}\n`;
}

/** The reply as raw bytes, for sockets the HTTP server has handed over (CONNECT, parse errors). */
export function rawReply(reply: ProxyReply): string {
  const body = bodyOf(reply);
  const lines = [
    // Python's CONNECT client shows only the status line (never the body): the English reason rides there too.
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Error'}: ${headerSafe(reply.reason)}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  if (reply.denied) lines.push(`X-Kb-Egress-Denied: ${headerSafe(reply.reason)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Ends a raw client socket with the reply; never throws (the client may be gone already). */
export function endSocket(socket: Socket, reply: ProxyReply): void {
  if (socket.destroyed) return;
  // Destroyed once flushed: a client that never closes its side must not hold a slot.
  if (socket.writable) socket.end(rawReply(reply), () => socket.destroy());
  else socket.destroy();
}

/** The reply on a response still unsent (absolute-form requests); closes the client connection after it. */
export function sendReply(res: ServerResponse, reply: ProxyReply): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = bodyOf(reply);
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  if (reply.denied) headers['x-kb-egress-denied'] = headerSafe(reply.reason);
  res.writeHead(reply.status, headers);
  res.end(body);
}
