import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContext } from 'node:tls';

/**
 * Real local servers for the safe-fetch tests (127.0.0.1, port 0). Each
 * records what reached it, so a test can prove a refused hop never did.
 */

export interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, hit: Hit) => void;

export interface LocalServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  hits: Hit[];
  /** TCP connections accepted (keep-alive reuse shows as fewer connections than hits). */
  connections: number;
  /** TLS server names (SNI) clients asked for. */
  serverNames: string[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler, tls = false): Promise<LocalServer> {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      state.hits.push(hit);
      // The client may hang up mid-answer (size cap, timeout): that is the point of those tests.
      res.on('error', () => {});
      handler(req, res, hit);
    });
  };
  const state = { hits: [] as Hit[], connections: 0, serverNames: [] as string[] };
  // Recorded during the handshake: a client that rejects our certificate never completes it.
  const SNICallback = (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
    state.serverNames.push(name);
    cb(null);
  };
  const server = tls
    ? https.createServer({ key: TEST_KEY, cert: TEST_CERT, SNICallback }, onRequest)
    : http.createServer(onRequest);
  server.on('connection', (socket) => {
    state.connections++;
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    get connections() {
      return state.connections;
    },
    get serverNames() {
      return state.serverNames;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

// Self-signed certificate for api.tenant.test (test only, valid until 2125):
// lets a test see the SNI name we send and that verification stays on.
const TEST_KEY = `
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiOH5SWzB7/3kiBPm
+lzDQQBS5nImOuL/oLOkqmlJxKKhRANCAARMLVCJ8ySAQSlxTqOP2iqSwcBZDuhu
AcnPnsi/MZBdYBdsLyWUjD60c3Ibnh/ZU1hWquyccKRMI2W6a44s8MKG
-----END PRIVATE KEY-----
`;

const TEST_CERT = `
-----BEGIN CERTIFICATE-----
MIIBqDCCAU2gAwIBAgIUDAHlnjAUDPggJrVJYNJqqqmLhpIwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPYXBpLnRlbmFudC50ZXN0MCAXDTI2MTEyNTE5MjQxNloYDzIx
MjYxMTAxMTkyNDE2WjAaMRgwFgYDVQQDDA9hcGkudGVuYW50LnRlc3QwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARMLVCJ8ySAQSlxTqOP2iqSwcBZDuhuAcnPnsi/
MZBdYBdsLyWUjD60c3Ibnh/ZU1hWquyccKRMI2W6a44s8MKGo28wbTAdBgNVHQ4E
FgQUmaZhYiA9nNT46cCZxsEi6jy4BAgwHwYDVR0jBBgwFoAUmaZhYiA9nNT46cCZ
xsEi6jy4BAgwDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgg9hcGkudGVuYW50
LnRlc3QwCgYIKoZIzj0EAwIDSQAwRgIhAOA9LyzP6efTYoqkdk3Xb0QioovuZO6I
/0TeZEFjZrzPAiEApj0qoU329NVkvufZtNXA/xUv5Ab007ukGQDH/NaMyfk=
-----END CERTIFICATE-----
`;
