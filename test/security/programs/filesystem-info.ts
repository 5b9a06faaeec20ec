import { expect } from 'vitest';
import { errno, prog, text, type Hostile } from './shared.js';

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
        // except Docker's own per-container files, read-only, docker-init (tini), read-only, and the
        // runner's home for this container (sockets only), read-only.
        const dockerOwn =
          /^\/var\/lib\/docker\/containers\/[0-9a-f]{64}\/(hosts|hostname|resolv\.conf)$/.test(root) && ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'].includes(mountPoint);
        const init = mountPoint === '/usr/sbin/docker-init' && /tini/.test(root);
        // The runner's per-container home (its egress proxy's socket and, for dedicated containers, the
        // runtime's): a directory of its own with a random name, read-only, holding only the runner's sockets.
        const home = mountPoint === '/run/kb' && /\/domaeka-runner\/[0-9a-f]{16}\/[A-Za-z0-9_-]{22}$/.test(root);
        const kernelFs = ['overlay', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'tmpfs', 'devpts', 'mqueue'].includes(fsType!);
        expect(kernelFs || dockerOwn || init || home, line).toBe(true);
        if (dockerOwn || init || home) expect(f[5]!.split(',')[0], line).toBe('ro');
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
