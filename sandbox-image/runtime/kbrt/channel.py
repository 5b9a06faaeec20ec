"""The framed channel to the runner.

A frame is a 4-byte big-endian unsigned length N followed by N bytes of
UTF-8 JSON (one object). The channel is never fd 1 or fd 2:

- stdio: the fds the runner attached as stdin/stdout are dup()ed to private
  fds at startup (then 0/1/2 are pointed elsewhere, see capture.Redirect);
- unix: the runtime connects to a unix socket the runner listens on (path in
  KB_RUNTIME_SOCKET; the directory is mounted read-only, the runner never
  connects to a path a container could plant).
"""

import _thread
import os

HEADER = 4
MAX_FRAME = 16 * 1024 * 1024


class ProtocolError(Exception):
    pass


class Channel:
    def __init__(self, rfd, wfd, kind):
        self.rfd = rfd
        self.wfd = wfd
        self.kind = kind
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
        if n > MAX_FRAME:
            raise ProtocolError('frame of %d bytes is over the %d byte limit' % (n, MAX_FRAME))
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


def frame(payload):
    """Header + payload, for clients (tests, tools)."""
    return len(payload).to_bytes(HEADER, 'big') + payload
