"""A framed client that runs the runtime in a child process, as the runner will."""

import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import time

RUNTIME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_PY = os.path.join(RUNTIME, 'run.py')
if RUNTIME not in sys.path:
    sys.path.insert(0, RUNTIME)


def frame(obj):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode('utf-8')
    return struct.pack('>I', len(body)) + body


class Runtime:
    """python3 -I -B run.py with pipes for stdin/stdout (the runner's attached stdio)."""

    def __init__(self, env=None, timeout=10.0, start=True):
        self.timeout = timeout
        self.errlog = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, '-I', '-B', RUN_PY],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog,
            env=env if env is not None else {'PATH': os.environ.get('PATH', '/usr/bin:/bin')},
        )
        self.buf = b''
        self.ready = self.read() if start else None

    def send_bytes(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj):
        self.send_bytes(frame(obj))

    def _read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        fd = self.proc.stdout.fileno()
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('no frame from the runtime within %.1fs' % (timeout or self.timeout))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self, timeout=None):
        head = self._read_exact(4, timeout)
        if head is None:
            return None
        n = struct.unpack('>I', head)[0]
        body = self._read_exact(n, timeout)
        return json.loads(body.decode('utf-8'))

    def request(self, obj, timeout=None):
        self.send(obj)
        return self.read(timeout)

    def call(self, code=None, params=None, rid=1, **kw):
        req = {'id': rid, 'op': 'call', 'params': params if params is not None else {}}
        if code is not None:
            req['code'] = code
        req.update(kw)
        return self.request(req)

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.proc.stdout.close()
            self.errlog.close()

    def stderr(self):
        self.errlog.seek(0)
        return self.errlog.read().decode('utf-8', 'replace')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.errlog.closed:
            self.close()


def params(*words, **extra):
    """The seed's request dict."""
    p = {
        'command': '날씨', 'parameters': list(words), 'raw_text': ' '.join(('날씨',) + words),
        'sender': '홍길동', 'room': '테스트방', 'channel_id': '12345',
        'metadata': {'timestamp': '2025-01-22T10:30:00Z', 'device_id': 'android_xxx', 'bot': 'b', 'event_id': 'e1'},
    }
    p.update(extra)
    return p
