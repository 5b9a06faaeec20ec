import { expect } from 'vitest';
import type { RunnerResultPayload } from '@domaeka/broker';

/**
 * The hostile programs of issue 3, item 6: one row each, table-driven. Each
 * `check` asserts the outcome the table gives for its row; the harness adds,
 * for every program, that no platform secret (the canary) appears in the
 * answer and that another tenant's call right after is answered normally.
 *
 * "Error inside the run" programs catch the error and return
 * `Type:errno:...` as their text, so the exact errno is asserted.
 */
export interface Hostile {
  name: string;
  /** The table row it belongs to. */
  row: string;
  code: string;
  timeoutMs?: number;
  /** The container must already be gone when the (failure) answer arrives. */
  goneAtAnswer?: boolean;
  /** A call by another tenant made just before (other tenants' files). */
  before?: { tenantId: string; code: string };
  check(r: RunnerResultPayload): void;
}

const E = { EPERM: 1, ENOENT: 2, EAGAIN: 11, EACCES: 13, ECONNREFUSED: 111, ENETUNREACH: 101, EMFILE: 24, ENOSPC: 28, EROFS: 30, EADDRNOTAVAIL: 99 } as const;
type Errno = keyof typeof E;

/** Every program starts with this: `_e(exc)` -> `Type:errno`. */
const PRELUDE = `
import os, sys
def _e(e):
    return f"{type(e).__name__}:{getattr(e, 'errno', None)}"
`;
const prog = (body: string) => `${PRELUDE}\n${body.trim()}\n`;

function fails(...codes: string[]) {
  return (r: RunnerResultPayload) => {
    expect(r.ok, JSON.stringify(r).slice(0, 500)).toBe(false);
    expect(r.result).toBeNull();
    expect(codes).toContain(r.error?.code);
  };
}

function text(re: RegExp) {
  return (r: RunnerResultPayload) => {
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    expect(r.ok).toBe(true);
    expect(String(r.result?.text)).toMatch(re);
  };
}

/** The run answered `<ExceptionType>:<errno>...` with the errno one of `names`. */
function errno(types: RegExp, ...names: Errno[]) {
  return (r: RunnerResultPayload) => {
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const t = String(r.result?.text);
    const m = /^(\w+):(-?\d+|None)/.exec(t);
    expect(m, t).not.toBeNull();
    expect(m![1]).toMatch(types);
    expect(names.map((n) => E[n]), t).toContain(Number(m![2]));
  };
}

const TIMEOUT_MS = 1500;
const timeout = (name: string, code: string): Hostile => ({
  name,
  row: 'CPU spin; sleep forever; never returning; blocking on stdin',
  code: prog(code),
  timeoutMs: TIMEOUT_MS,
  goneAtAnswer: true,
  check: fails('KB_ERR_TIMEOUT'),
});

export const TIMEOUTS: Hostile[] = [
  timeout('CPU spin', `
def handle_command(p):
    while True:
        pass
`),
  timeout('CPU spin swallowing the soft timeout (BaseException)', `
def handle_command(p):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
`),
  timeout('sleep forever', `
import time
def handle_command(p):
    time.sleep(10 ** 6)
`),
  timeout('never returning (deadlocked lock, timeout swallowed)', `
import threading
def handle_command(p):
    lock = threading.Lock()
    lock.acquire()
    while True:
        try:
            lock.acquire()
        except BaseException:
            pass
`),
  timeout('blocking on stdin (sys.stdin.read)', `
def handle_command(p):
    return sys.stdin.read()
`),
  timeout('blocking on fd 0 (os.read)', `
def handle_command(p):
    return os.read(0, 1).decode()
`),
  timeout('async handler awaiting forever', `
import asyncio
async def handle_command(p):
    await asyncio.Event().wait()
`),
];

export const MEMORY: Hostile[] = [
  {
    name: 'memory bomb (list of 1 MB blocks)',
    row: 'memory bomb; 100 MB result built in memory',
    code: prog(`
def handle_command(p):
    blocks = []
    while True:
        blocks.append(bytearray(1024 * 1024))
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_MEMORY_LIMIT'),
  },
  {
    name: '100 MB result string',
    row: 'memory bomb; 100 MB result built in memory',
    code: prog(`
def handle_command(p):
    return "x" * (100 * 1024 * 1024)
`),
    check: fails('KB_ERR_MEMORY_LIMIT', 'KB_ERR_OUTPUT_LIMIT'),
  },
  {
    name: '100 MB result in {text} with 100 buttons of 1 MB',
    row: 'memory bomb; 100 MB result built in memory',
    code: prog(`
def handle_command(p):
    big = "y" * (1024 * 1024)
    return {"text": "hi", "buttons": [{"label": big + str(i), "url": "https://e.example/" + big} for i in range(50)]}
`),
    check: fails('KB_ERR_MEMORY_LIMIT', 'KB_ERR_OUTPUT_LIMIT'),
  },
];

export const PIDS: Hostile[] = [
  {
    name: 'fork bomb',
    row: 'fork bomb; 10,000 threads',
    code: prog(`
import time
def handle_command(p):
    n = 0
    try:
        while n < 10000:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            n += 1
    except OSError as e:
        return f"{_e(e)}:{n}"
    return f"ALL:None:{n}"
`),
    check: (r) => {
      errno(/^(BlockingIOError|OSError)$/, 'EAGAIN')(r);
      // The pids limit (64, shared with the runtime and tini) stopped it.
      expect(Number(String(r.result?.text).split(':')[2])).toBeLessThan(64);
    },
  },
  {
    name: '10,000 threads',
    row: 'fork bomb; 10,000 threads',
    code: prog(`
import threading
def handle_command(p):
    stop = threading.Event()
    n = 0
    try:
        for _ in range(10000):
            threading.Thread(target=stop.wait, daemon=True).start()
            n += 1
    except RuntimeError as e:
        stop.set()
        return f"RuntimeError:None:{n}:{e}"
    stop.set()
    return f"ALL:None:{n}"
`),
    check: (r) => {
      expect(r.error, JSON.stringify(r.error)).toBeNull();
      const t = String(r.result?.text);
      expect(t).toMatch(/^RuntimeError:None:\d+:can't start new thread/);
      expect(Number(t.split(':')[2])).toBeLessThan(64);
    },
  },
];

export const FILESYSTEM: Hostile[] = [
  {
    name: 'fill /tmp',
    row: 'fill /tmp; write outside /tmp; write site-packages',
    code: prog(`
def handle_command(p):
    chunk = b"z" * (1024 * 1024)
    try:
        with open("/tmp/fill", "wb") as f:
            for _ in range(1024):
                f.write(chunk)
                f.flush()
    except OSError as e:
        return _e(e)
    return "ALL:None"
`),
    check: errno(/OSError/, 'ENOSPC'),
  },
  {
    name: 'write outside /tmp (/etc)',
    row: 'fill /tmp; write outside /tmp; write site-packages',
    code: prog(`
def handle_command(p):
    try:
        open("/etc/kb-pwned", "w").write("x")
    except OSError as e:
        return _e(e)
    return "WROTE:None"
`),
    check: errno(/OSError/, 'EROFS'),
  },
  {
    name: 'write site-packages',
    row: 'fill /tmp; write outside /tmp; write site-packages',
    code: prog(`
def handle_command(p):
    try:
        open("/usr/lib/python3/dist-packages/requests/__evil__.py", "w").write("x")
    except OSError as e:
        return _e(e)
    return "WROTE:None"
`),
    check: errno(/OSError/, 'EROFS'),
  },
  {
    name: 'overwrite the runtime',
    row: 'fill /tmp; write outside /tmp; write site-packages',
    code: prog(`
def handle_command(p):
    try:
        open("/opt/kb/runtime/kbrt/result.py", "a").write("x")
    except OSError as e:
        return _e(e)
    return "WROTE:None"
`),
    // An existing root-owned file: the permission check comes before the read-only mount's.
    check: errno(/PermissionError|OSError/, 'EACCES', 'EROFS'),
  },
  {
    name: 'write /dev/shm (a tmpfs outside /tmp)',
    row: 'fill /tmp; write outside /tmp; write site-packages',
    code: prog(`
def handle_command(p):
    try:
        open("/dev/shm/kb", "w").write("x" * 1000)
    except OSError as e:
        return _e(e)
    return "WROTE:None"
`),
    check: errno(/OSError|FileNotFoundError|PermissionError/, 'ENOENT', 'EACCES', 'EROFS'),
  },
  {
    name: 'execute a file written to /tmp (noexec)',
    row: 'fill /tmp; write outside /tmp; write site-packages',
    code: prog(`
def handle_command(p):
    with open("/tmp/run.sh", "w") as f:
        f.write("#!/bin/sh\\necho pwned\\n")
    os.chmod("/tmp/run.sh", 0o755)
    try:
        os.execv("/tmp/run.sh", ["/tmp/run.sh"])
    except OSError as e:
        return _e(e)
`),
    check: errno(/PermissionError/, 'EACCES'),
  },
  {
    name: 'exhaust file descriptors',
    row: 'exhaust file descriptors',
    code: prog(`
def handle_command(p):
    fds = []
    try:
        while len(fds) < 100000:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as e:
        n = len(fds)
        for fd in fds:
            os.close(fd)
        return f"{_e(e)}:{n}"
    return "ALL:None"
`),
    check: (r) => {
      errno(/OSError/, 'EMFILE')(r);
      expect(Number(String(r.result?.text).split(':')[2])).toBeLessThan(64);
    },
  },
];

export const OUTPUT: Hostile[] = [
  {
    name: 'stdout flood (200,000 prints), then return',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    for i in range(200000):
        print("flood line", i)
    return "flood done"
`),
    check: (r) => {
      text(/^flood done$/)(r);
      expect(r.outputTruncated).toBe(true);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
  {
    name: 'one 10 MB print',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    print("Q" * (10 * 1024 * 1024))
    return "big print done"
`),
    check: (r) => {
      text(/^big print done$/)(r);
      expect(r.outputTruncated).toBe(true);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
  {
    name: 'os.write flood on fds 1 and 2 (never blocks)',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    chunk = b"W" * 65536
    blocked = 0
    for i in range(300):
        for fd in (1, 2):
            try:
                os.write(fd, chunk)
            except BlockingIOError:
                blocked += 1
    return f"os.write done, {blocked} refused"
`),
    // Raw fd writes meet a non-blocking capture pipe: past what the capture holds they are refused
    // (EAGAIN, sandbox-image/README.md "Output"), so the flood is capped at the source: the tenant
    // sees BlockingIOError and the output stays within the cap (marked when more was taken in).
    check: (r) => {
      text(/^os\.write done, \d+ refused$/)(r);
      const refused = Number(/(\d+) refused/.exec(String(r.result?.text))![1]);
      expect(r.outputTruncated || refused > 0).toBe(true);
      expect(refused).toBeGreaterThan(0);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
  {
    name: 'endless stdout flood',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    while True:
        print("endless" * 100)
`),
    timeoutMs: TIMEOUT_MS,
    goneAtAnswer: true,
    // The run ends (soft timeout); nothing of the flood is kept beyond the cap.
    check: (r) => {
      fails('KB_ERR_TIMEOUT')(r);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
];

/** Host paths that must never show up in what a sandbox can read. */
export const HOST_PATHS = ['/work', '/root', '/home', '/var/run/docker.sock', '/run/docker.sock', '/var/lib/postgresql', '/var/lib/rabbitmq', '/etc/domaeka'];

export const INFO: Hostile[] = [
  {
    name: 'read /proc/1/environ',
    row: 'read /proc/1/environ, os.environ, /proc/self/mountinfo, /etc/shadow',
    code: prog(`
def handle_command(p):
    try:
        return "ENV:" + open("/proc/1/environ").read().replace("\\0", "\\n")
    except OSError as e:
        return _e(e)
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      const t = String(r.result?.text);
      // Readable (tini runs as uid 1000 too) but holds only the image's variables.
      for (const name of ['KB_CANARY', 'AMQP_URL', 'DATABASE_URL', 'SECRETS_KEY', 'KB_BROKER_PREFIX', 'RUNNER_']) expect(t).not.toContain(name);
    },
  },
  {
    name: 'read every /proc/*/environ and cmdline',
    row: 'read /proc/1/environ, os.environ, /proc/self/mountinfo, /etc/shadow',
    code: prog(`
def handle_command(p):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for f in ("environ", "cmdline"):
                try:
                    out.append(pid + "/" + f + "=" + open(f"/proc/{pid}/{f}", "rb").read().decode("utf-8", "replace").replace("\\0", " "))
                except OSError as e:
                    out.append(pid + "/" + f + "!" + _e(e))
    return "\\n".join(out)
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      const t = String(r.result?.text);
      for (const name of ['KB_CANARY', 'AMQP_URL', 'DATABASE_URL', 'SECRETS_KEY', 'node', 'dockerd', 'postgres']) expect(t).not.toContain(name);
    },
  },
  {
    name: 'dump os.environ',
    row: 'read /proc/1/environ, os.environ, /proc/self/mountinfo, /etc/shadow',
    code: prog(`
def handle_command(p):
    return repr(dict(os.environ))
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      const env = String(r.result?.text);
      for (const name of ['KB_CANARY', 'AMQP_URL', 'DATABASE_URL', 'SECRETS_KEY', 'KB_RUNTIME_SOCKET', 'RUNNER_']) expect(env).not.toContain(name);
    },
  },
  {
    name: 'read /proc/self/mountinfo',
    row: 'read /proc/1/environ, os.environ, /proc/self/mountinfo, /etc/shadow',
    code: prog(`
def handle_command(p):
    return open("/proc/self/mountinfo").read()
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      const lines = String(r.result?.text).trim().split('\n');
      for (const line of lines) {
        const [pre, post = ''] = line.split(' - ');
        const f = pre!.split(' ');
        const root = f[3]!;
        const mountPoint = f[4]!;
        const [fsType] = post.split(' ');
        // "No host path" = no host directory or file is bind-mounted into the sandbox: every mount is a
        // kernel filesystem (overlay root, proc, sysfs, cgroup, tmpfs, devpts, mqueue) at its own root,
        // except Docker's own per-container files, read-only, and docker-init (tini), read-only.
        const dockerOwn =
          /^\/var\/lib\/docker\/containers\/[0-9a-f]{64}\/(hosts|hostname|resolv\.conf)$/.test(root) && ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'].includes(mountPoint);
        const init = mountPoint === '/usr/sbin/docker-init' && /tini/.test(root);
        const kernelFs = ['overlay', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'tmpfs', 'devpts', 'mqueue'].includes(fsType!);
        expect(kernelFs || dockerOwn || init, line).toBe(true);
        if (dockerOwn || init) expect(f[5]!.split(',')[0], line).toBe('ro');
        if (!kernelFs) continue;
        // Pseudo filesystems mount subtrees of themselves (/proc/bus, cgroup /docker/<id>): not host paths.
      }
      // The overlay root's super options name Docker's storage directories
      // (lowerdir=/var/lib/docker/overlay2/l/...,upperdir=...). Accepted, on purpose: they are the
      // image layers' paths on the host, not mounted or reachable from inside (no such path exists
      // in the container, the root is read-only, no capability to mount), and every Docker
      // container shows them. Recorded in the security suite's report; nothing else host-side may.
      const text = String(r.result?.text).replace(/lowerdir=[^ ]*|upperdir=[^ ,]*|workdir=[^ ,]*/g, '');
      for (const p of HOST_PATHS) expect(text).not.toContain(p);
    },
  },
  {
    name: 'read /etc/shadow',
    row: 'read /proc/1/environ, os.environ, /proc/self/mountinfo, /etc/shadow',
    code: prog(`
def handle_command(p):
    try:
        return "READ:None:" + open("/etc/shadow").read()
    except OSError as e:
        return _e(e)
`),
    check: errno(/PermissionError/, 'EACCES'),
  },
  {
    name: 'capabilities and seccomp of the process',
    row: 'read /proc/1/environ, os.environ, /proc/self/mountinfo, /etc/shadow',
    code: prog(`
def handle_command(p):
    keep = ("Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp:")
    return "".join(l for l in open("/proc/self/status") if l.startswith(keep))
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      const t = String(r.result?.text);
      for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(t).toMatch(new RegExp(`${cap}:\\s+0{16}`));
      expect(t).toMatch(/NoNewPrivs:\s+1/);
      expect(t).toMatch(/Seccomp:\s+2/);
      expect(t).toMatch(/Uid:\s+1000\s+1000\s+1000\s+1000/);
    },
  },
];

export const NOT_THERE: Hostile[] = [
  {
    name: '/var/run/docker.sock exists?',
    row: '/var/run/docker.sock exists? other tenants\' files?',
    code: prog(`
import socket
def handle_command(p):
    seen = [q for q in ("/var/run/docker.sock", "/run/docker.sock", "/var/run/docker", "/run/containerd/containerd.sock") if os.path.lexists(q)]
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect("/var/run/docker.sock")
        return "CONNECTED:None"
    except OSError as e:
        return f"{_e(e)}:{seen}"
`),
    check: (r) => {
      errno(/FileNotFoundError/, 'ENOENT')(r);
      expect(String(r.result?.text)).toMatch(/:\[\]$/);
    },
  },
  {
    name: 'other tenants\' files (/tmp of an earlier run)',
    row: '/var/run/docker.sock exists? other tenants\' files?',
    before: {
      tenantId: 'victim-tenant',
      code: `
import os
def handle_command(p):
    with open("/tmp/victim-secret.txt", "w") as f:
        f.write("victim data")
    os.makedirs("/tmp/victim-dir", exist_ok=True)
    return "stored"
`,
    },
    code: prog(`
def handle_command(p):
    found = []
    for root in ("/tmp", "/dev/shm", "/var/tmp", "/opt/kb"):
        for dirpath, dirs, files in os.walk(root):
            found += [os.path.join(dirpath, n) for n in files + dirs if "victim" in n]
    try:
        open("/tmp/victim-secret.txt").read()
        return "FOUND:None"
    except OSError as e:
        return f"{_e(e)}:{found}"
`),
    check: (r) => {
      errno(/FileNotFoundError/, 'ENOENT')(r);
      expect(String(r.result?.text)).toMatch(/:\[\]$/);
    },
  },
];

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
            requests.get(url, timeout=1)
            out.append("OK")
        except requests.exceptions.RequestException as e:
            out.append(type(e).__name__)
    return ",".join(out)
`),
    check: (r) => {
      expect(r.ok).toBe(true);
      expect(String(r.result?.text).split(',')).toEqual(['ConnectionError', 'ConnectionError', 'ConnectionError']);
    },
  },
];

/** Escape tricks: whatever they reach, they run as uid 1000 in this container, with no network and no secret. */
const NOTHING_GAINED = `
import socket
def _gained():
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", 5672))
        net = "NET"
    except OSError:
        net = "nonet"
    return f"uid={os.getuid()},euid={os.geteuid()},{net}"
`;
const escape = (name: string, body: string): Hostile => ({
  name,
  row: 'subclasses -> os.system; frame/generator walk; format-string attribute access; code objects; ctypes',
  code: prog(`${NOTHING_GAINED}\n${body.trim()}`),
  check: (r) => {
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const t = String(r.result?.text);
    expect(t).toContain('uid=1000,euid=1000,nonet');
    expect(t).not.toMatch(/uid=0[(,]/);
  },
});

export const ESCAPES: Hostile[] = [
  escape('().__class__.__bases__[0].__subclasses__() -> os.system', `
def handle_command(p):
    wrap = [c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == "_wrap_close"][0]
    system = wrap.__init__.__globals__["system"]
    rc = system("id > /tmp/id.txt 2>&1")
    return f"rc={rc} id={open('/tmp/id.txt').read().strip()} " + _gained()
`),
  escape('subprocess through __import__ (lint bypass)', `
def handle_command(p):
    sp = __builtins__["__import__"]("subprocess") if isinstance(__builtins__, dict) else __builtins__.__import__("subprocess")
    out = sp.run(["id"], capture_output=True, text=True).stdout.strip()
    return out + " " + _gained()
`),
  escape('frame walk into the runtime (f_back, f_globals, f_locals)', `
def handle_command(p):
    seen = []
    f = sys._getframe()
    while f is not None:
        seen.append(f.f_code.co_filename + ":" + ",".join(sorted(map(str, f.f_locals))[:20]))
        for v in list(f.f_locals.values()) + list(f.f_globals.values()):
            seen.append(repr(v)[:300])
        f = f.f_back
    return "\\n".join(seen)[:50000] + "\\n" + _gained()
`),
  escape('generator frame walk (gi_frame.f_back)', `
def handle_command(p):
    def gen():
        yield sys._getframe().f_back
    fr = next(gen())
    names = []
    while fr is not None:
        names.append(fr.f_code.co_name)
        fr = fr.f_back
    return "/".join(names) + " " + _gained()
`),
  escape('format-string attribute access to globals', `
import posixpath
def handle_command(p):
    leak = "{0.__globals__[os].environ}".format(posixpath.join)
    leak2 = "{0.__class__.__init__.__globals__}".format(p) if hasattr(p.__class__.__init__, "__globals__") else "-"
    return leak + leak2[:2000] + " " + _gained()
`),
  escape('code objects: build and run a function from a crafted code object', `
import types
def handle_command(p):
    src = compile("def f():\\n    return __import__('os').getuid()\\n", "<x>", "exec")
    code = [c for c in src.co_consts if isinstance(c, types.CodeType)][0]
    f = types.FunctionType(code.replace(co_name="g"), {"__builtins__": __builtins__})
    return f"crafted={f()} " + _gained()
`),
  escape('ctypes: setresuid(0) and raw syscalls', `
import ctypes
def handle_command(p):
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.setresuid(0, 0, 0)
    err = ctypes.get_errno()
    rc2 = libc.syscall(105, 0)  # setuid(0) on x86_64
    return f"setresuid={rc}/{err} syscall={rc2} " + _gained()
`),
  escape('gc.get_objects: hunt the runtime for platform secrets', `
import gc
def handle_command(p):
    needles = ("amqp://", "postgres://", "SECRETS_KEY", "KB_" + "CANARY")
    hits = []
    for o in gc.get_objects():
        vals = o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()
        try:
            for v in vals:
                if isinstance(v, str) and any(n in v for n in needles) and "needles" not in v:
                    hits.append(v[:80])
        except Exception:
            pass
    return f"hits={len(hits)} " + _gained()
`),
];

const invalid = (name: string, ret: string): Hostile => ({
  name,
  row: 'non-JSON value (set, bytes, object); deeply nested result; lone surrogate',
  code: prog(`
class Thing:
    pass
def handle_command(p):
    ${ret}
`),
  check: fails('KB_ERR_INVALID_RESULT'),
});

export const RESULTS: Hostile[] = [
  invalid('returns a set', 'return {"text": {1, 2, 3}}'),
  invalid('returns bytes', 'return {"text": "x", "url": b"https://e.example"}'),
  invalid('returns an object', 'return Thing()'),
  invalid('deeply nested result', `
    v = "deep"
    for _ in range(1000):
        v = [v]
    return {"text": "x", "buttons": v}`),
  invalid('lone surrogate', 'return "\\ud800 half a pair"'),
  invalid('NaN in the result', 'return {"text": "x", "format": float("nan")}'),
  invalid('a cycle', `
    d = {"text": "x"}
    d["self"] = d
    return d`),
  invalid('a str subclass lying in __str__', `
    class Liar(str):
        def __str__(self):
            return "forged"
        def encode(self, *a, **k):
            raise RuntimeError("gotcha")
    return {"text": Liar("\\udfff")}`),
];

export const FORGING: Hostile[] = [
  {
    name: 'print a fake result line and a fake frame on fd 1',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`
def handle_command(p):
    print('{"id": 1, "ok": true, "result": {"type": "text", "text": "forged"}}')
    os.write(1, b"\\x00\\x00\\x00\\x40" + b'{"id":1,"ok":true,"result":{"type":"text","text":"forged"}}     ')
    sys.stdout.flush()
    return "real answer"
`),
    check: (r) => {
      text(/^real answer$/)(r);
      expect(r.output).toContain('forged');
    },
  },
  {
    name: 'close fds 0, 1 and 2',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`
def handle_command(p):
    os.close(1)
    os.close(2)
    os.close(0)
    return "real after close"
`),
    check: text(/^real after close$/),
  },
  {
    name: 'dup2 /dev/null over fds 1 and 2, then print',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`
def handle_command(p):
    n = os.open("/dev/null", os.O_WRONLY)
    os.dup2(n, 1)
    os.dup2(n, 2)
    print("into the void")
    return "real after dup2"
`),
    check: text(/^real after dup2$/),
  },
];

/**
 * Tenant code can find the channel's fds (sandbox-image/README.md says so) and the id of the
 * request it runs in (frame walk): it writes a whole frame of its own before the runtime answers.
 */
const FORGED_FRAME = `
import struct
def _forge(result):
    rid = None
    f = sys._getframe()
    while f is not None:
        for v in list(f.f_locals.values()):
            if isinstance(v, dict) and v.get("op") == "call" and "id" in v:
                rid = v["id"]
        f = f.f_back
    body = ('{"id": %s, "ok": true, "result": %s, "output": "", "outputTruncated": false}' % (rid, result)).encode()
    wrote = []
    for fd in range(3, 8):
        try:
            os.write(fd, struct.pack(">I", len(body)) + body)
            wrote.append(fd)
        except OSError:
            pass
    return wrote
`;

FORGING.push(
  {
    name: 'write a forged frame onto the channel fd (within what it could return)',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`${FORGED_FRAME}
def handle_command(p):
    _forge('{"type": "text", "text": "claimed"}')
    return "real answer"
`),
    // It can only claim what it could have returned, or break its own channel: never more.
    check: (r) => {
      if (r.ok) expect(['claimed', 'real answer']).toContain(r.result?.text);
      else expect(r.error?.code).toBe('KB_ERR_SANDBOX_CRASHED');
    },
  },
  {
    name: 'write a forged frame with a result normalising would refuse',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`${FORGED_FRAME}
def handle_command(p):
    _forge('{"type": "text", "text": "' + "F" * (200 * 1024) + '", "buttons": [{"label": "x", "url": "javascript:alert(1)"}], "evil": {"nested": [1, 2]}}')
    return "real answer"
`),
    check: (r) => {
      if (!r.ok) return expect(r.error?.code).toMatch(/^KB_ERR_(SANDBOX_CRASHED|OUTPUT_LIMIT|INVALID_RESULT)$/);
      // If a forged frame is taken at all, it carries nothing a returned value could not.
      expect(Buffer.byteLength(String(r.result?.text))).toBeLessThanOrEqual(64 * 1024);
      expect(Object.keys(r.result ?? {}).every((k) => ['type', 'text', 'buttons', 'url', 'image_base64', 'format'].includes(k))).toBe(true);
      // (URL schemes are not the runtime's to judge: a returned javascript: URL passes normalising too.)
    },
  },
);

export const EXITS: Hostile[] = [
  {
    name: 'os._exit(0)',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
def handle_command(p):
    os._exit(0)
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
  {
    name: 'kill own process (SIGKILL)',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
import signal
def handle_command(p):
    os.kill(os.getpid(), signal.SIGKILL)
    return "survived"
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
  {
    name: 'kill own process (SIGTERM)',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
import signal, time
def handle_command(p):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1)
    return "survived"
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
  {
    name: 'sys.exit()',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
def handle_command(p):
    sys.exit()
`),
    check: fails('KB_ERR_USER_EXCEPTION'),
  },
  {
    name: 'exit(0) builtin',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
def handle_command(p):
    exit(0)
`),
    check: fails('KB_ERR_USER_EXCEPTION'),
  },
  {
    name: 'segfault through ctypes',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
import ctypes
def handle_command(p):
    ctypes.string_at(0)
    return "survived"
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
];

export const SYMLINKS: Hostile[] = [
  {
    name: 'symlinks planted in /tmp where a runtime or runner might read',
    row: 'symlink planted where the runtime or runner reads',
    code: prog(`
def handle_command(p):
    planted = {
        "/tmp/VERSION": "/etc/shadow",
        "/tmp/kb.sock": "/var/run/docker.sock",
        "/tmp/result.json": "/proc/1/environ",
        "/tmp/output": "/etc/shadow",
        "/tmp/loop": "/tmp/loop",
        "/tmp/.kb": "/",
    }
    for link, target in planted.items():
        os.symlink(target, link)
    os.environ["KB_RUNTIME_SOCKET"] = "/tmp/kb.sock"
    return "planted " + ",".join(sorted(planted))
`),
    check: (r) => {
      text(/^planted /)(r);
      // Neither the runtime nor the runner read through them: the answer holds only what the program returned.
      expect(JSON.stringify(r)).not.toMatch(/root:[*!x]|PATH=|PYTHONDONTWRITEBYTECODE/);
    },
  },
];

export const ALL_GROUPS = { TIMEOUTS, MEMORY, PIDS, FILESYSTEM, OUTPUT, INFO, NOT_THERE, PRIVILEGES, NETWORK, ESCAPES, RESULTS, FORGING, EXITS, SYMLINKS };
