#!/usr/bin/env python3
"""A small framed client for the sandbox runtime: checks an image by hand and
times it (the runner is the real client; this is for people and for numbers).

  python3 sandbox-image/client.py                 # docker run ... domaeka-sandbox:latest
  python3 sandbox-image/client.py --local         # the runtime from this checkout, no Docker
  python3 sandbox-image/client.py --calls 2000 --image domaeka-sandbox:<version>

Prints: time to the ready frame, a load+call round trip, warm call p50/p99,
and for Docker the memory of the idle runtime (RSS/PSS) and of its shim.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# DESIGN.md section 5's boundary, as the runner will set it (free plan limits),
# plus --init (docker-init/tini as PID 1: a runtime that kills itself really dies,
# orphans are reaped, SIGTERM works; see README.md).
DOCKER_FLAGS = [
    '--rm', '-i', '--init', '--network', 'none', '--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=16m',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '1000:1000',
    '--memory', '256m', '--memory-swap', '256m', '--cpus', '0.5', '--pids-limit', '64',
    '--ulimit', 'nofile=64:64', '--log-driver', 'none',
]

WEATHER = '''
from datetime import datetime
from zoneinfo import ZoneInfo

count = 0

def handle_command(params):
    global count
    count += 1
    location = params["parameters"][0] if params.get("parameters") else "서울"
    now = datetime.now(ZoneInfo("Asia/Seoul")).strftime("%H:%M")
    print("called", count)
    return {"text": f"🌤️ {location} 날씨\\n현재: 5°C ({now})", "buttons": [{"label": "자세히", "url": "https://weather.example/"}]}
'''


class Client:
    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.rfd = self.proc.stdout.fileno()
        self.buf = b''

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = os.read(self.rfd, 1 << 16)
            if not chunk:
                raise EOFError('the runtime closed the channel')
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self):
        n = struct.unpack('>I', self._exact(4))[0]
        return json.loads(self._exact(n))

    def request(self, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.proc.stdin.write(struct.pack('>I', len(body)) + body)
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)


def mem_of(pid):
    out = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(('VmRSS', 'RssAnon', 'RssFile')):
                    out[line.split(':')[0]] = int(line.split()[1])
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith(('Pss:', 'Private_Dirty:')):
                    out[line.split(':')[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def ppid_of(pid):
    with open('/proc/%d/stat' % pid) as f:
        return int(f.read().rsplit(')', 1)[1].split()[1])


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--image', default='domaeka-sandbox:latest')
    ap.add_argument('--local', action='store_true', help='run the runtime of this checkout with python3')
    ap.add_argument('--calls', type=int, default=1000)
    ap.add_argument('--no-init', action='store_true', help='run the runtime as PID 1 (no docker-init)')
    ap.add_argument('--json', action='store_true', help='print the numbers as JSON')
    args = ap.parse_args()

    cidfile = None
    if args.local:
        argv = [sys.executable, '-I', '-B', os.path.join(HERE, 'runtime', 'run.py')]
    else:
        cidfile = os.path.join(tempfile.mkdtemp(), 'cid')
        flags = [f for f in DOCKER_FLAGS if not (args.no_init and f == '--init')]
        argv = ['docker', 'run', '--cidfile', cidfile] + flags + [args.image]

    res = {}
    t0 = time.perf_counter()
    c = Client(argv)
    ready = c.read()
    res['startToReadyMs'] = (time.perf_counter() - t0) * 1000
    assert ready.get('ready'), ready
    res['runtime'] = ready.get('runtime')
    res['python'] = ready.get('python')

    pid = None
    if cidfile:
        cid = open(cidfile).read().strip()
        pid = int(subprocess.check_output(['docker', 'inspect', '-f', '{{.State.Pid}}', cid]).decode())
        if not args.no_init:  # the container's PID 1 is docker-init; the runtime is its child
            res['initKb'] = mem_of(pid)
            init_pid = pid
            pid = int(open('/proc/%d/task/%d/children' % (init_pid, init_pid)).read().split()[0])
    elif c.proc.pid:
        pid = c.proc.pid
    time.sleep(0.2)
    if pid:
        res['idleRuntimeKb'] = mem_of(pid)
        if cidfile:
            shim = ppid_of(ppid_of(pid)) if not args.no_init else ppid_of(pid)
            res['shimKb'] = mem_of(shim)

    t = time.perf_counter()
    r = c.request({'id': 1, 'op': 'call', 'code': WEATHER, 'codeVersion': 'w1', 'timeoutMs': 5000,
                   'params': {'command': '날씨', 'parameters': ['화도읍'], 'sender': '홍길동', 'room': '방'}})
    res['loadCallRoundTripMs'] = (time.perf_counter() - t) * 1000
    assert r.get('ok'), r
    res['firstResult'] = r['result']

    times = []
    for i in range(args.calls):
        t = time.perf_counter()
        r = c.request({'id': 2 + i, 'op': 'call', 'params': {'parameters': ['x']}, 'timeoutMs': 5000})
        times.append((time.perf_counter() - t) * 1000)
        assert r.get('ok'), r
    if times:
        res['warmCallP50Ms'] = pct(times, 50)
        res['warmCallP99Ms'] = pct(times, 99)
        res['warmCallsPerS'] = len(times) / (sum(times) / 1000)
    if pid:
        res['afterCallsRuntimeKb'] = mem_of(pid)

    t = time.perf_counter()
    lint = c.request({'id': 'lint', 'op': 'lint', 'code': 'import os\n' + WEATHER})
    res['lintMs'] = (time.perf_counter() - t) * 1000
    res['lintFindings'] = len(lint.get('findings', []))
    res['exitCode'] = c.close()

    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=2))
        return
    for k, v in res.items():
        print('%-22s %s' % (k, '%.2f' % v if isinstance(v, float) else v))


if __name__ == '__main__':
    main()
