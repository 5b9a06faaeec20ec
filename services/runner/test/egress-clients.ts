import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

/**
 * What a sandboxed program does with the proxy socket, for the proxy's tests:
 * raw CONNECT (as requests/urllib3 do for https://), absolute-form HTTP
 * (as they do for http://), and a TCP echo server to tunnel to.
 */

export interface ProxyAnswer {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  socket: net.Socket;
}

/** Sends `head` on a new connection to the proxy and reads the answer's head. */
export async function sendHead(socketPath: string, head: string): Promise<ProxyAnswer> {
  const socket = net.connect(socketPath);
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(head);
  return readAnswerHead(socket);
}

export function connectHead(target: string, extra = ''): string {
  return `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${extra}\r\n`;
}

function readAnswerHead(socket: net.Socket): Promise<ProxyAnswer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      // Bytes behind the head (a tunnel's first bytes, a reply's body) stay for whoever reads next.
      if (end + 4 < buf.length) socket.unshift(buf.subarray(end + 4));
      const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString();
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, socket });
    };
    const onClose = () => reject(new Error(`proxy closed without an answer (got ${JSON.stringify(buf.toString())})`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** The rest of the answer until the proxy closes the connection. */
export async function readToClose(answer: ProxyAnswer): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of answer.socket) chunks.push(chunk as Buffer);
  } catch {
    // A reset after the answer still leaves what arrived before it.
  }
  return Buffer.concat(chunks).toString();
}

/** Writes through an open tunnel and waits until `expected` bytes came back. */
export async function roundTrip(socket: net.Socket, text: string, expected: string): Promise<string> {
  let got = '';
  const done = new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      got += c.toString();
      if (got.length >= expected.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`tunnel closed after ${JSON.stringify(got)}`)));
  });
  socket.resume();
  socket.write(text);
  return done;
}

export interface ProxiedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An absolute-form request through the proxy socket, as an HTTP client configured with a proxy sends it. */
export function viaProxy(
  socketPath: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxiedResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: url, method: opts.method ?? 'GET', headers: opts.headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.end(opts.body);
  });
}

export interface EchoServer {
  port: number;
  /** TCP connections accepted. */
  connections: number;
  /** Resolves when the next accepted connection closes. */
  closed: Promise<void>[];
  close(): Promise<void>;
}

/** Greets each connection with `echo:`, then sends back every byte it receives (both directions visible). */
export async function startEcho(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const state: EchoServer = {
    port: 0,
    connections: 0,
    closed: [],
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    state.closed.push(once(socket, 'close').then(() => undefined));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.write('echo:');
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as AddressInfo).port;
  return state;
}
