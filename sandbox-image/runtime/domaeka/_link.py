"""The worker's connection to the runner's store socket (/run/kb/data.sock).

The runner serves the store on a unix socket in the container's home,
mounted read-only into this container only (services/runner/README.md,
"Store"): the runner knows whose container it is, so nothing here is a
credential. Frames as on the runtime channel: a 4-byte big-endian length,
then one UTF-8 JSON object, both ways; answers in request order.

One connection per process, opened on first use and kept (a dedicated
container's calls reuse it); threads take turns on it. Each request names
the call it belongs to (the runner call's id, set by the runtime around
each call): the runner admits requests of calls in flight in this
container only. A request cut short (the soft timeout, any exception while
it is on the wire) closes the connection, so a late answer can never be
read as the next request's.
"""

import _socket
import _thread
import os

from kbrt import jsonc

from .errors import StoreError, StoreUnavailable, from_answer

ENV_NAME = 'KB_DATA_SOCKET'
HEADER = 4
# The runner's answers: a keys() list of 1,000 keys of 200 characters is under 1 MiB.
ANSWER_MAX = 2 * 1024 * 1024
# The runner answers in milliseconds; this is for a database that stopped answering.
TIMEOUT_S = 30.0

_path = None
_call = None
# The bench's hook (bench/store-calls.ts): ask the runner for its database time of each request (Link.last_db_ms).
timed = False

_UNREACHABLE = '저장소에 연결할 수 없습니다 / the store cannot be reached'


def configure(environ):
    """At the worker's start: where the socket is (the variable is removed: tenant code never needs it)."""
    global _path
    _path = environ.pop(ENV_NAME, None) or None


def begin_call(call_id):
    """The runtime, before tenant code runs for a call: its requests name that call."""
    global _call
    _call = call_id if type(call_id) is str else None


def end_call():
    global _call
    _call = None


class Link:
    def __init__(self):
        self.lock = _thread.allocate_lock()
        self.sock = None
        self.buf = b''
        self.next_id = 0
        self.last_db_ms = None
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self):
        """In a process forked by tenant code: the parent's connection is not ours (its own comes on first use)."""
        self.lock = _thread.allocate_lock()
        sock, self.sock, self.buf = self.sock, None, b''
        if sock is not None:
            try:
                sock.close()  # this process's copy of the fd only
            except OSError:
                pass

    def request(self, op, fields):
        """The runner's answer (a dict with ok: true), or raises the named StoreError."""
        with self.lock:
            if _path is None:
                raise StoreUnavailable('이 환경에는 저장소가 없습니다 / no store in this environment')
            self.next_id += 1
            rid = self.next_id
            msg = {'id': rid, 'call': _call, 'op': op}
            msg.update(fields)
            if timed:
                msg['timed'] = True
            payload = jsonc.encode(msg)
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(len(payload).to_bytes(HEADER, 'big') + payload)
                answer = self._read()
            except OSError:
                self._close()
                raise StoreUnavailable(_UNREACHABLE) from None
            except BaseException:  # noqa: B036 - the soft timeout too: a request cut short ends the connection
                self._close()
                raise
            if type(answer) is not dict or answer.get('id') not in (rid, None):
                self._close()
                raise StoreError('저장소의 응답이 올바르지 않습니다 / unexpected answer from the store')
            if answer.get('ok') is not True:
                if answer.get('id') is None:  # a refusal of the connection itself: the runner closes it
                    self._close()
                raise from_answer(answer.get('error'))
            self.last_db_ms = answer.get('dbMs')
            return answer

    def _connect(self):
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            s.settimeout(TIMEOUT_S)
            s.connect(_path)
        except BaseException:  # noqa: B036
            s.close()
            raise
        self.sock = s
        self.buf = b''

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionResetError('the store closed the connection')
            self.buf += chunk

    def _read(self):
        self._fill(HEADER)
        n = int.from_bytes(self.buf[:HEADER], 'big')
        if n > ANSWER_MAX:
            raise ConnectionResetError('an answer of %d bytes' % n)
        self._fill(HEADER + n)
        payload, self.buf = self.buf[HEADER:HEADER + n], self.buf[HEADER + n:]
        try:
            return jsonc.loads(payload.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            raise ConnectionResetError('an answer that is not JSON') from None

    def _close(self):
        sock, self.sock, self.buf = self.sock, None, b''
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass


link = Link()
