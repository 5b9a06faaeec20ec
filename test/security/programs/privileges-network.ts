import { expect } from 'vitest';
import { errno, prog, type Hostile } from './shared.js';

export const PRIVILEGES: Hostile[] = [
  {
    name: 'setuid(0)',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
def handle_command(p):
    try:
        os.setuid(0)
        return "ROOT:None"
    except OSError as e:
        return _e(e)
`),
    check: errno(/PermissionError/, 'EPERM'),
  },
  {
    name: 'mount a tmpfs (ctypes)',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
import ctypes
def handle_command(p):
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)
    err = ctypes.get_errno()
    if rc != 0:
        return f"OSError:{err}"
    return "MOUNTED:None"
`),
    check: errno(/OSError/, 'EPERM'),
  },
  {
    name: 'unshare a user namespace (ctypes)',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
import ctypes
def handle_command(p):
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.unshare(0x10000000)  # CLONE_NEWUSER
    if rc != 0:
        return f"OSError:{ctypes.get_errno()}"
    return "UNSHARED:None"
`),
    check: errno(/OSError/, 'EPERM'),
  },
  {
    name: 'ptrace PID 1 (ctypes)',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
import ctypes
def handle_command(p):
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.ptrace(16, 1, None, None)  # PTRACE_ATTACH to tini
    err = ctypes.get_errno()
    if rc != 0:
        return f"OSError:{err}"
    libc.ptrace(17, 1, None, None)  # PTRACE_DETACH
    return "ATTACHED:None"
`),
    check: errno(/OSError/, 'EPERM'),
  },
  {
    name: 'raw socket',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
import socket
def handle_command(p):
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        return "RAW:None"
    except OSError as e:
        return _e(e)
`),
    check: errno(/PermissionError/, 'EPERM'),
  },
  {
    name: 'chmod u+s on the interpreter',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
def handle_command(p):
    try:
        os.chmod("/usr/bin/python3.11", 0o4755)
        return "SETUID:None"
    except OSError as e:
        return _e(e)
`),
    check: errno(/OSError|PermissionError/, 'EROFS', 'EPERM'),
  },
  {
    name: 'chmod u+s on an own /tmp copy of a binary, then run it',
    row: 'setuid(0), mount, ptrace, raw socket, chmod u+s',
    code: prog(`
import shutil
def handle_command(p):
    shutil.copy("/usr/bin/id", "/tmp/id")
    # The owner may set the bit on an own file (the kernel allows it): it must buy nothing.
    os.chmod("/tmp/id", 0o4755)
    try:
        os.execv("/tmp/id", ["/tmp/id"])
    except OSError as e:
        return f"{_e(e)}:{oct(os.stat('/tmp/id').st_mode)}"
`),
    check: errno(/PermissionError/, 'EACCES'),
  },
];

const connect = (name: string, host: string, port: number): Hostile => ({
  name,
  row: 'connect to 127.0.0.1:5672, :5432, :8080, any IP, DNS lookup',
  code: prog(`
import socket
def handle_command(p):
    fam = socket.AF_INET6 if ":" in ${JSON.stringify(host)} else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((${JSON.stringify(host)}, ${port}))
        return "CONNECTED:None"
    except OSError as e:
        return _e(e)
`),
  // Loopback inside the container's own network namespace: nothing listens. Any other address: no route.
  check: errno(/OSError|ConnectionRefusedError/, 'ECONNREFUSED', 'ENETUNREACH', 'EADDRNOTAVAIL'),
});

export const NETWORK: Hostile[] = [
  connect('connect 127.0.0.1:5672 (RabbitMQ)', '127.0.0.1', 5672),
  connect('connect 127.0.0.1:5432 (PostgreSQL)', '127.0.0.1', 5432),
  connect('connect 127.0.0.1:8080 (API)', '127.0.0.1', 8080),
  connect('connect 1.1.1.1:443 (any IP)', '1.1.1.1', 443),
  connect('connect 172.17.0.1:2375 (a Docker bridge / API)', '172.17.0.1', 2375),
  connect('connect 169.254.169.254:80 (metadata)', '169.254.169.254', 80),
  connect('connect [::1]:5672', '::1', 5672),
  {
    name: 'DNS lookup',
    row: 'connect to 127.0.0.1:5672, :5432, :8080, any IP, DNS lookup',
    code: prog(`
import socket
def handle_command(p):
    try:
        return "RESOLVED:None:" + repr(socket.getaddrinfo("example.com", 443))
    except OSError as e:
        return _e(e)
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      expect(String(r.result?.text)).toMatch(/^gaierror:-[23]$/);
    },
  },
  {
    name: 'requests.get to the host',
    row: 'connect to 127.0.0.1:5672, :5432, :8080, any IP, DNS lookup',
    code: prog(`
import requests
def handle_command(p):
    out = []
    for url in ("http://127.0.0.1:8080/", "http://10.0.0.1/", "https://example.com/"):
        try:
            r = requests.get(url, timeout=1)
            denied = "denied" if r.headers.get("X-Kb-Egress-Denied") and "외부 접속" in r.text else "?"
            out.append(f"{r.status_code} {denied}")
        except requests.exceptions.RequestException as e:
            out.append(type(e).__name__)
    return ",".join(out)
`),
    // The only way out is the runner's egress proxy, and this plan has no egress: plain http gets its
    // 403 (with the Korean reason), https its refused CONNECT (requests: ProxyError). Nothing connects.
    check: (r) => {
      expect(r.ok).toBe(true);
      expect(String(r.result?.text).split(',')).toEqual(['403 denied', '403 denied', 'ProxyError']);
    },
  },
];
