import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server standing in for a tenant's API (127.0.0.1, port 0). Records every request. */

export interface StubRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}
export type StubHandler = (req: StubRequest, res: http.ServerResponse) => void;

export interface Stub {
  port: number;
  url(path: string): string;
  requests: StubRequest[];
  on(path: string, handler: StubHandler): void;
  close(): Promise<void>;
}

export const json = (body: unknown, status = 200): StubHandler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/**
 * The rigs' tenant API: the command `에코 <id>` is answered `응답 <id>`, and every id's calls are
 * counted in `calls`, so a target called twice for one message shows.
 */
export function countingEcho(calls: Map<string, number>): StubHandler {
  return (req, res) => {
    const id = String(req.json?.parameters?.[0] ?? '?');
    calls.set(id, (calls.get(id) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `응답 ${id}` }));
  };
}

export async function startStub(routes: Record<string, StubHandler> = {}): Promise<Stub> {
  const handlers = new Map(Object.entries(routes));
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown = null;
      try {
        parsed = body ? JSON.parse(body) : null;
      } catch {
        /* recorded as text */
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const r: StubRequest = { method: req.method ?? '', path, headers: req.headers, body, json: parsed };
      requests.push(r);
      const h = handlers.get(path);
      if (h) h(r, res);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    on: (path, handler) => void handlers.set(path, handler),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
