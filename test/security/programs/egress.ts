import { expect } from 'vitest';
import { prog, type Hostile } from './shared.js';

/**
 * The one way out of a sandbox: the runner's egress proxy (DESIGN.md
 * section 5). A premium tenant's allowlist names its API's domains; hostile
 * code tries to use the proxy to reach the platform itself, the metadata
 * address and private networks, by IP, by a name on its own allowlist that
 * its DNS points inside, and by talking to the proxy's socket directly.
 * Every attempt is refused by the proxy (403 and the reason); nothing
 * connects.
 */
const ALLOW = ['api.shop.example', '*.shop.example'];

/** The harness's resolver: names on the hostile tenant's own allowlist that point inside. */
export const EGRESS_NAMES: Record<string, string> = {
  'loop.shop.example': '127.0.0.1',
  'lan.shop.example': '10.0.0.5',
  'meta.shop.example': '169.254.169.254',
  'mapped.shop.example': '::ffff:127.0.0.1',
};

const ROW = 'connect to 127.0.0.1:5672, :5432, :8080, any IP, DNS lookup';

/** Each URL through requests (the proxy from HTTP(S)_PROXY): `status reason` or the exception. */
const fetchAll = (urls: string[]) =>
  prog(`
import requests
def handle_command(p):
    out = []
    for url in ${JSON.stringify(urls)}:
        try:
            r = requests.get(url, timeout=3)
            out.append(f"{r.status_code} {r.headers.get('X-Kb-Egress-Denied', '')}")
        except requests.exceptions.RequestException as e:
            out.append(type(e).__name__ + " " + str(e)[-160:])
    return "\\n".join(out)
`);

const lines = (t: unknown) => String(t).split('\n');

export const EGRESS: Hostile[] = [
  {
    name: "through the proxy to the platform's own ports (by IP)",
    row: ROW,
    egress: ALLOW,
    code: fetchAll(['http://127.0.0.1:5432/', 'http://127.0.0.1:5672/', 'http://127.0.0.1:8080/api/v1/me', 'http://[::1]:8080/', 'http://10.0.0.1/']),
    check: (r) => {
      expect(r.ok).toBe(true);
      for (const l of lines(r.result?.text)) expect(l).toMatch(/^403 .*not in the domain allowlist/);
    },
  },
  {
    name: 'a name on its own allowlist that its DNS points at loopback, a LAN, the metadata address',
    row: ROW,
    egress: ALLOW,
    code: fetchAll(['http://loop.shop.example:5432/', 'http://lan.shop.example/', 'http://meta.shop.example/latest/meta-data/', 'http://mapped.shop.example:8080/']),
    check: (r) => {
      expect(r.ok).toBe(true);
      const [loop, lan, meta, mapped] = lines(r.result?.text);
      expect(loop).toMatch(/^403 loop\.shop\.example resolves to 127\.0\.0\.1/);
      expect(lan).toMatch(/^403 lan\.shop\.example resolves to 10\.0\.0\.5/);
      expect(meta).toMatch(/^403 meta\.shop\.example resolves to 169\.254\.169\.254/);
      expect(mapped).toMatch(/^403 mapped\.shop\.example resolves to/);
    },
  },
  {
    name: 'CONNECT tunnels (https) to the metadata address and loopback',
    row: ROW,
    egress: ALLOW,
    code: fetchAll(['https://169.254.169.254/', 'https://loop.shop.example:5672/']),
    check: (r) => {
      expect(r.ok).toBe(true);
      const [meta, loop] = lines(r.result?.text);
      expect(meta).toMatch(/^ProxyError .*403 Forbidden: 169\.254\.169\.254 is not in the domain allowlist/);
      expect(loop).toMatch(/^ProxyError .*403 Forbidden: loop\.shop\.example resolves to 127\.0\.0\.1/);
    },
  },
  {
    name: "speak to the proxy's socket directly: forged CONNECT, a Host header naming another place, garbage",
    row: ROW,
    egress: ALLOW,
    code: prog(`
import socket
def ask(raw):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect("/run/kb/egress.sock")
    s.sendall(raw)
    data = b""
    try:
        while b"\\r\\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data.split(b"\\r\\n", 1)[0].decode("latin-1")
def handle_command(p):
    return "\\n".join([
        ask(b"CONNECT 127.0.0.1:5432 HTTP/1.1\\r\\n\\r\\n"),
        ask(b"GET http://10.0.0.1/ HTTP/1.1\\r\\nHost: api.shop.example\\r\\n\\r\\n"),
        ask(b"\\x00\\xff garbage\\r\\n\\r\\n"),
    ])
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      const [connect, hostTrick, garbage] = lines(r.result?.text);
      expect(connect).toMatch(/^HTTP\/1\.1 403 Forbidden: 127\.0\.0\.1 is not in the domain allowlist/);
      expect(hostTrick).toMatch(/^HTTP\/1\.1 403/);
      expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    },
  },
];
