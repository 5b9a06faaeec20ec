"""The supervisor: the one process that holds the runner's channel.

Tenant code runs in a worker process forked from here (kbrt/server.py's
request loop, unchanged); the worker has no copy of the channel, only a
private pipe pair to the supervisor (channel.WorkerLink). The supervisor
passes each request on, reads what the worker answers, checks it and is
the only writer to the runner (issue 13, hole 4: tenant code wrote whole
frames onto the channel fd, 3,000,000 characters of output and a result
of its own). The split follows the supervisor/agent pattern of gVisor and
Firecracker-style sandboxes and AWS Lambda's Runtime API process boundary:
the code under test never holds the transport to the host, and what it
reports is bounded by the side that does.

Per request (sequential: the runner's pipelined requests wait in the
channel), from the worker it accepts: output events only for a request
that asked to stream, for that request's number and id, their data counted
against the output cap (64 KiB; past it dropped, past EVENT_BYTES_MAX a
misuse); then exactly one response with the request's id, its output cut
to the cap (outputTruncated), a result over 1 MiB refused as
KB_ERR_OUTPUT_LIMIT. Anything else (a malformed or oversized frame, another
request's number or id, anything between requests) is a misuse: the
request is answered KB_ERR_SANDBOX_CRASHED "the runtime channel was
misused: ...", the worker is killed and the supervisor exits (the runner
never reuses the container).

The worker dying (os._exit, a kill, the OOM killer) ends the supervisor
with the worker's status: the runner sees the channel end, as before.
The supervisor is not dumpable (PR_SET_DUMPABLE 0), so uid 1000 cannot
open /proc/<supervisor>/fd/* or /mem; with the ptrace filter
(kbrt/noptrace.py) nothing in the container reaches its fds.
"""

import os
import select
import sys
import _signal

from . import jsonc
from .channel import HEADER, ProtocolError

OUTPUT_MAX_BYTES = 64 * 1024
RESULT_MAX_BYTES = 1024 * 1024
# Output events of one request, raw: the worker streams only what its capture kept (64 KiB, up to
# 6 bytes a character escaped, a few dozen bytes a frame); more is not the runtime's.
EVENT_BYTES_MAX = 1024 * 1024
# Frames from the worker: a result (1 MiB) and output (64 KiB), escaped, and a traceback fit.
WORKER_FRAME_MAX = 4 * 1024 * 1024
MISUSE = 'the runtime channel was misused'
EXIT_MISUSE = 3


class Misuse(Exception):
    pass


class WorkerGone(Exception):
    pass


class FromWorker:
    """Frames from the worker: 4-byte length, 4-byte request number, payload."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = os.read(self.fd, max(n - len(self.buf), 65536))
            if not chunk:
                raise WorkerGone()
            self.buf += chunk

    def read(self):
        self._fill(2 * HEADER)
        n = int.from_bytes(self.buf[:HEADER], 'big')
        if n > WORKER_FRAME_MAX:
            raise Misuse('a frame of %d bytes from the worker' % n)
        seq = int.from_bytes(self.buf[HEADER:2 * HEADER], 'big')
        self._fill(2 * HEADER + n)
        payload = bytes(self.buf[2 * HEADER:2 * HEADER + n])
        del self.buf[:2 * HEADER + n]
        return seq, payload


def _cut(text, limit):
    """text within `limit` UTF-8 bytes (a character cut in two dropped); None when it fits."""
    if len(text) * 3 <= limit:
        return None
    b = text.encode('utf-8', 'replace')
    if len(b) <= limit:
        return None
    return b[:limit].decode('utf-8', 'ignore')


def _same_id(a, b):
    return type(a) is type(b) and a == b


class Supervisor:
    def __init__(self, chan, wpid, to_worker, from_worker):
        self.chan = chan
        self.wpid = wpid
        self.to_worker = to_worker
        self.from_worker = FromWorker(from_worker)
        self.seq = 0

    def send(self, msg):
        self.chan.write_frame(jsonc.encode(msg))

    def serve(self):
        try:
            seq, payload = self.from_worker.read()
            ready = jsonc.loads(payload.decode('utf-8'))
        except (WorkerGone, Misuse, ValueError, UnicodeDecodeError):
            return self.worker_status()
        ready['pid'] = os.getpid()
        ready['worker'] = self.wpid
        ready['transport'] = self.chan.kind
        self.send(ready)
        poller = select.poll()
        poller.register(self.chan.rfd, select.POLLIN)
        poller.register(self.from_worker.fd, select.POLLIN)
        while True:
            if self.from_worker.buf:  # read ahead with the last answer: written after it
                return self.idle_worker()
            if not self.chan.buffered():
                # Between requests the worker has nothing to say: anything it writes now is a misuse.
                for fd, _ev in poller.poll():
                    if fd == self.from_worker.fd:
                        return self.idle_worker()
            try:
                payload = self.chan.read_frame()
            except ProtocolError as e:
                self.send({'id': None, 'ok': False, 'error': {'code': 'KB_ERR_PROTOCOL', 'message': str(e)}})
                self.kill_worker()
                return 2
            if payload is None:
                os.close(self.to_worker)  # the worker ends at its end of input
                return 0
            rid, stream = _peek(payload)
            self.seq += 1
            try:
                self.forward(payload)
                self.relay(rid, stream)
            except WorkerGone:
                return self.worker_status()
            except Misuse as m:
                self.misused(rid, str(m))
                return EXIT_MISUSE

    def forward(self, payload):
        data = memoryview(len(payload).to_bytes(HEADER, 'big') + payload)
        try:
            while data:
                data = data[os.write(self.to_worker, data):]
        except BrokenPipeError:
            raise WorkerGone() from None

    def relay(self, rid, stream):
        """The worker's frames for this request, checked and capped, until its one response."""
        raw = 0
        kept = 0
        while True:
            seq, payload = self.from_worker.read()
            if seq != self.seq:
                raise Misuse('a frame for request %d while request %d is in flight' % (seq, self.seq))
            try:
                msg = jsonc.loads(payload.decode('utf-8'))
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise Misuse('a frame that is not JSON') from None
            if type(msg) is not dict or not _same_id(msg.get('id'), rid):
                raise Misuse('a frame that is not for the request in flight')
            if 'event' in msg:
                data = msg.get('data')
                if not stream or msg['event'] != 'output' or type(data) is not str:
                    raise Misuse('an event frame the request did not ask for')
                raw += len(payload)
                if raw > EVENT_BYTES_MAX:
                    raise Misuse('output events past the output limit')
                room = OUTPUT_MAX_BYTES - kept
                if room <= 0:
                    continue
                cut = _cut(data, room)
                if cut is None:
                    kept += len(data.encode('utf-8', 'replace'))
                    self.chan.write_frame(payload)
                else:
                    kept = OUTPUT_MAX_BYTES
                    msg['data'] = cut
                    self.send(msg)
                continue
            self.chan.write_frame(self.capped(msg, payload))
            return

    def capped(self, msg, payload):
        """The response as the runner gets it: output within its cap, a result within 1 MiB."""
        changed = False
        out = msg.get('output')
        if type(out) is str:
            cut = _cut(out, OUTPUT_MAX_BYTES)
            if cut is not None:
                msg['output'] = cut
                msg['outputTruncated'] = True
                changed = True
        if len(payload) > RESULT_MAX_BYTES and 'result' in msg:
            if len(jsonc.encode(msg['result'])) > RESULT_MAX_BYTES:
                msg.pop('result')
                msg['ok'] = False
                msg['error'] = {'code': 'KB_ERR_OUTPUT_LIMIT', 'message': '결과가 1 MiB를 넘었습니다 / the result is over 1 MiB'}
                changed = True
        return jsonc.encode(msg) if changed else payload

    def misused(self, rid, what):
        message = '%s: %s' % (MISUSE, what)
        os.write(2, ('kbrt: %s\n' % message).encode())
        self.kill_worker()
        self.send({'id': rid, 'ok': False, 'error': {'code': 'KB_ERR_SANDBOX_CRASHED', 'message': message},
                   'output': '', 'outputTruncated': False})

    def idle_worker(self):
        """The worker wrote between requests (or ended): never reused."""
        if not self.from_worker.buf:
            try:
                os.read(self.from_worker.fd, 1)[0]
            except (IndexError, OSError):
                return self.worker_status()
        os.write(2, ('kbrt: %s: the worker wrote between requests\n' % MISUSE).encode())
        self.kill_worker()
        return EXIT_MISUSE

    def kill_worker(self):
        try:
            os.kill(self.wpid, _signal.SIGKILL)
        except OSError:
            pass

    def worker_status(self):
        """The worker ended, or closed its end (it can never answer again): the supervisor ends
        with its status (a signal as 128 + its number)."""
        self.kill_worker()  # a no-op on a worker that already exited (its status stays)
        try:
            _pid, status = os.waitpid(self.wpid, 0)
        except ChildProcessError:
            return 1
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code


def _peek(payload):
    """The request's id and whether it streams (what the worker's answer must match)."""
    try:
        req = jsonc.loads(payload.decode('utf-8'))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, False
    if type(req) is not dict:
        return None, False
    return req.get('id'), req.get('op') == 'call' and req.get('stream') is True


def _prctl(option, arg):
    import ctypes  # already loaded by noptrace
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0


PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4


def start(chan, worker_main):
    """Forks the worker (which runs worker_main(link) and never returns) and
    returns the Supervisor of this process."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            chan.close()
            os.close(req_w)
            os.close(resp_r)
            # The worker goes with the supervisor (it never outlives the channel).
            _prctl(PR_SET_PDEATHSIG, _signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)
            worker_main(req_r, resp_w)
        finally:
            os._exit(1)
    os.close(req_r)
    os.close(resp_w)
    # Not dumpable: /proc/<this pid>/fd, /mem, /environ become root's, out of uid 1000's reach.
    if not _prctl(PR_SET_DUMPABLE, 0):
        os.write(2, b'kbrt: warning: the supervisor could not be made non-dumpable\n')
    return Supervisor(chan, pid, req_w, resp_r)


def stdio_away():
    """After the stdio channel took its private copies: fds 0 and 1 point at /dev/null, so a
    forked worker never holds the runner's stdin/stdout."""
    n = os.open('/dev/null', os.O_RDWR)
    os.dup2(n, 0)
    os.dup2(n, 1)
    os.close(n)
    sys.stdout = sys.stderr
