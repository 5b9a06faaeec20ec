import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds web/ when missing or stale (as the e2e global setup does), so web/server.js can start. */
export function ensureWebBuild(): void {
  const r = spawnSync(process.execPath, ['web/build-if-stale.js'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`web build failed (exit ${r.status})`);
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/**
 * One HTTP request from a chosen local source address (127.0.0.2, ... are
 * other loopback addresses Linux routes to `lo`): how a test plays several
 * browsers, or a local attacker, against a real listening server.
 */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; from?: string } = {},
): Promise<Answer> {
  const u = new URL(url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        localAddress: opts.from,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `name=value` of a Set-Cookie list, by cookie name (the whole header line under `.line`). */
export function cookiesOf(setCookie: string[] | string | undefined): Map<string, { value: string; line: string }> {
  const list = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  const jar = new Map<string, { value: string; line: string }>();
  for (const line of list) {
    const pair = line.split(';')[0]!;
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), { value: pair.slice(i + 1), line });
  }
  return jar;
}
