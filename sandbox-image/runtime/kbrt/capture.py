"""Tenant output capture, apart from the protocol channel.

Python-level writes (print, sys.stdout/sys.stderr, warnings) go to one
capped in-memory buffer per call. fds 1 and 2 point to a non-blocking pipe
that the runtime drains after each call, so os.write(1, ...) and C-level
writes are captured too and a flood gets EAGAIN instead of blocking. fd 0 is
a pipe nobody ever writes to: reading stdin blocks (until the call's timeout)
and never sees the runner's requests.
"""

import os
import sys


class _Buffer:
    """`sys.stdout.buffer`: bytes written here are decoded into the capture."""

    def __init__(self, capture):
        self._capture = capture

    def write(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError('a bytes-like object is required, not %r' % type(data).__name__)
        data = bytes(data)
        self._capture.add_bytes(data)
        return len(data)

    def flush(self):
        pass

    def writable(self):
        return True


class Capture:
    """A text stream that keeps the first `limit` UTF-8 bytes written."""

    encoding = 'utf-8'
    errors = 'replace'
    newlines = None
    line_buffering = False
    closed = False
    mode = 'w'

    def __init__(self, limit, name='<stdout>'):
        self.limit = limit
        self.name = name
        self.data = bytearray()
        self.truncated = False
        self.buffer = _Buffer(self)
        # A call that streams its output (live.LiveOutput) sees every kept byte as it is written.
        self.live = None

    def reset(self):
        self.data = bytearray()
        self.truncated = False
        self.live = None

    def add_bytes(self, b):
        if self.truncated:
            return
        room = self.limit - len(self.data)
        if len(b) > room:
            b = b[:max(room, 0)]
            self.truncated = True
        self.data += b
        live = self.live
        if live is not None and b:
            live.add(b)

    def write(self, s):
        if type(s) is not str:
            if isinstance(s, str):
                s = str.__str__(s)
            else:
                raise TypeError('write() argument must be str, not %s' % type(s).__name__)
        if self.truncated:
            return len(s)
        n = len(s)
        room = self.limit - len(self.data)
        # A character takes at least one byte: never encode more than needed.
        self.add_bytes((s[:room + 1] if n > room else s).encode('utf-8', 'replace'))
        if n > room and not self.truncated:
            self.truncated = True
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def fileno(self):
        return 1

    def close(self):
        pass

    def text(self):
        """The captured text (a character cut at the limit is dropped)."""
        return self.data.decode('utf-8', 'ignore' if self.truncated else 'replace')


class Redirect:
    """Owns the fds: the protocol is moved to private fds by the transport;
    this points 0, 1 and 2 away from the runner for good."""

    def __init__(self):
        # stdin: a pipe whose write end we hold and never write to. Non-blocking: tenant code that
        # writes to every fd it has (a forger) gets EAGAIN there instead of stalling its own call.
        self._in_r, self._in_w = os.pipe()
        os.set_blocking(self._in_w, False)
        # stdout/stderr: a non-blocking pipe drained after each call.
        self._out_r, self._out_w = os.pipe()
        os.set_blocking(self._out_r, False)
        os.set_blocking(self._out_w, False)
        self.repoint()

    def fds(self):
        return (self._in_r, self._in_w, self._out_r, self._out_w)

    def repoint(self):
        """(Re)attach fds 0, 1, 2: tenant code may have closed or replaced them."""
        os.dup2(self._in_r, 0)
        os.dup2(self._out_w, 1)
        os.dup2(self._out_w, 2)

    def drain(self, capture):
        """Move what reached fds 1/2 into the capture (dropping what is past its limit)."""
        while True:
            try:
                chunk = os.read(self._out_r, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            capture.add_bytes(chunk)


def install(capture):
    """Point every Python-level stream at the capture."""
    sys.stdout = sys.stderr = capture
    sys.__stdout__ = sys.__stderr__ = capture
