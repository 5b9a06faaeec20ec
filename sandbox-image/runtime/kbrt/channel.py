"""The framed channel to the runner.

A frame is a 4-byte big-endian unsigned length N followed by N bytes of
UTF-8 JSON (one object). The channel is never fd 1 or fd 2:

- stdio: the fds the runner attached as stdin/stdout are dup()ed to private
  fds at startup (then 0/1/2 are pointed elsewhere, see capture.Redirect);
- unix: the runtime connects to a unix socket the runner listens on (path in
  KB_RUNTIME_SOCKET; the directory is mounted read-only, the runner never
  connects to a path a container could plant).

Only the supervisor holds it (kbrt/supervisor.py); the worker that runs
tenant code talks to the supervisor over a private pipe pair (WorkerLink):
requests in as they came, answers out with an 8-byte header (length, then
the number of the request they answer).
"""

import _thread
import os

HEADER = 4
MAX_FRAME = 16 * 1024 * 1024


class ProtocolError(Exception):
    pass


class Channel:
    def __init__(self, rfd, wfd, kind, max_frame=MAX_FRAME):
        self.rfd = rfd
        self.wfd = wfd
        self.kind = kind
        self.max_frame = max_frame
        self._buf = bytearray()
        # Live output frames can be written from a tenant's thread while the
        # main thread answers: one frame at a time, never interleaved.
        self.lock = _thread.allocate_lock()

    @classmethod
    def stdio(cls):
        # os.dup: the copies are non-inheritable and stay valid when tenant
        # code closes or replaces fds 0, 1, 2.
        return cls(os.dup(0), os.dup(1), 'stdio')

    @classmethod
    def unix(cls, path, wait_s=10.0):
        import _socket  # not `socket`: that module imports enum and selectors
        import time
        deadline = time.monotonic() + wait_s
        while True:
            s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        fd = s.detach()
        os.set_inheritable(fd, False)
        return cls(fd, fd, 'unix')

    def fds(self):
        return (self.rfd,) if self.rfd == self.wfd else (self.rfd, self.wfd)

    def close(self):
        for fd in self.fds():
            try:
                os.close(fd)
            except OSError:
                pass

    def buffered(self):
        """True when a whole frame is already read (no need to wait for the fd)."""
        buf = self._buf
        return len(buf) >= HEADER and len(buf) >= HEADER + int.from_bytes(buf[:HEADER], 'big')

    def _fill(self, n):
        buf = self._buf
        while len(buf) < n:
            chunk = os.read(self.rfd, max(n - len(buf), 65536))
            if not chunk:
                return False
            buf += chunk
        return True

    def read_frame(self):
        """The next frame's payload (bytes), or None at a clean end of input."""
        if not self._fill(HEADER):
            if self._buf:
                raise ProtocolError('input ended inside a frame header')
            return None
        n = int.from_bytes(self._buf[:HEADER], 'big')
        if n > self.max_frame:
            raise ProtocolError('frame of %d bytes is over the %d byte limit' % (n, self.max_frame))
        if not self._fill(HEADER + n):
            raise ProtocolError('input ended inside a frame')
        payload = bytes(self._buf[HEADER:HEADER + n])
        del self._buf[:HEADER + n]
        return payload

    def write_frame(self, payload):
        with self.lock:
            self._write(payload)

    def _write(self, payload):
        """Writes one frame; the caller holds `lock`."""
        data = memoryview(len(payload).to_bytes(HEADER, 'big') + payload)
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]


class WorkerLink(Channel):
    """The worker's end of its pipe pair to the supervisor: requests in as
    the runner framed them, frames out as length + the number of the request
    being answered (counted here, in step with the supervisor). Tenant code
    can reach these fds; the supervisor trusts nothing that comes out of
    them (kbrt/supervisor.py)."""

    def __init__(self, rfd, wfd):
        Channel.__init__(self, rfd, wfd, 'worker')
        self.seq = 0

    def read_frame(self):
        payload = Channel.read_frame(self)
        if payload is not None:
            self.seq += 1
        return payload

    def _write(self, payload):
        data = memoryview(len(payload).to_bytes(HEADER, 'big') + self.seq.to_bytes(HEADER, 'big') + payload)
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]


def frame(payload):
    """Header + payload, for clients (tests, tools)."""
    return len(payload).to_bytes(HEADER, 'big') + payload
