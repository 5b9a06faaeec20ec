"""The request loop: one framed request in, one framed response out, in order.

See README.md ("Protocol") for every request and response shape.
"""

import os
import sys
import time

from . import capture as _cap
from . import jsonc
from . import live as _live
from . import noptrace as _noptrace
from . import result as _result
from . import tenant as _t
from .channel import Channel, ProtocolError
from domaeka import _link as _store
from domaeka import _outbox

PROTOCOL = 1
OUTPUT_MAX_BYTES = 64 * 1024
TIMEOUT_MAX_MS = 10 * 60 * 1000
_perf = time.perf_counter


def _err(rid, code, message, **extra):
    e = {'code': code, 'message': message}
    e.update(extra)
    return {'id': rid, 'ok': False, 'error': e}


def _timeout_ms(req):
    t = req.get('timeoutMs')
    if t is None:
        return None
    if type(t) not in (int, float) or not (t > 0):
        raise _t.CallError('KB_ERR_PROTOCOL', 'timeoutMs must be a positive number')
    return min(t, TIMEOUT_MAX_MS)


def _module_key(req):
    key = req.get('module', 'main')
    if key is None:
        return 'main'
    if type(key) is not str or not key or len(key) > 200:
        raise _t.CallError('KB_ERR_PROTOCOL', 'module must be a non-empty string (at most 200 characters)')
    return key


class Runtime:
    def __init__(self, chan, redirect, version='dev'):
        self.chan = chan
        self.redirect = redirect
        self.version = version
        self.capture = _cap.Capture(OUTPUT_MAX_BYTES)
        _cap.install(self.capture)
        self.modules = {}
        self.pid = os.getpid()
        self.threads_before = None

    # -- plumbing --------------------------------------------------------------
    def send(self, msg):
        self.chan.write_frame(jsonc.encode(msg))

    def begin(self):
        """Before tenant code runs: fresh capture, fds 0/1/2 re-attached, streams ours."""
        self.threads_before = _threads()
        self.capture.reset()
        try:
            self.redirect.repoint()
        except OSError:
            pass
        _cap.install(self.capture)

    def end(self, resp, t0):
        """After tenant code ran: collect fd-level output, fill the common fields,
        and say what it left running (threads, children): the runner recycles
        a dedicated container with leftovers once its calls in hand are answered."""
        children = _reap_children()
        threads = _settled_threads(self.threads_before)
        self.redirect.drain(self.capture)
        if self.capture.live is not None:
            self.capture.live.close()
        _cap.install(self.capture)
        resp['output'] = self.capture.text()
        resp['outputTruncated'] = self.capture.truncated
        resp['durationMs'] = round((_perf() - t0) * 1000, 3)
        leftover = {}
        if threads is not None and self.threads_before is not None and threads > self.threads_before:
            leftover['threads'] = threads - self.threads_before
        if children:
            leftover['children'] = True
        if leftover:
            resp['leftover'] = leftover
        self.capture.reset()
        return resp

    def serve(self):
        self.send({'id': None, 'ok': True, 'ready': True, 'protocol': PROTOCOL, 'runtime': self.version,
                   'python': sys.version.split()[0], 'pid': self.pid, 'transport': self.chan.kind})
        while True:
            try:
                payload = self.chan.read_frame()
            except ProtocolError as e:
                self.send(_err(None, 'KB_ERR_PROTOCOL', str(e)))
                return 2
            if payload is None:
                return 0
            resp = self.handle(payload)
            if os.getpid() != self.pid:  # a fork of tenant code must never answer
                os._exit(0)
            self.send(resp)

    # -- requests --------------------------------------------------------------
    def handle(self, payload):
        # Children of earlier calls that exited since (the end of a call reaps only those gone by then).
        _reap_children()
        try:
            req = jsonc.loads(payload.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as e:
            return _err(None, 'KB_ERR_PROTOCOL', 'request is not JSON: %s' % e)
        if type(req) is not dict:
            return _err(None, 'KB_ERR_PROTOCOL', 'request must be a JSON object')
        rid = req.get('id')
        op = req.get('op')
        try:
            if op == 'call':
                return self.op_call(rid, req)
            if op == 'load':
                return self.op_load(rid, req)
            if op == 'lint':
                return self.op_lint(rid, req)
            if op == 'ping':
                return {'id': rid, 'ok': True, 'pong': True}
            if op == 'preload':
                return self.op_preload(rid, req)
            if op == 'unload':
                return self.op_unload(rid, req)
            return _err(rid, 'KB_ERR_PROTOCOL', 'unknown op: %r' % (op,))
        except _t.CallError as e:
            return {'id': rid, 'ok': False, 'error': e.as_dict()}
        except _t.Timeout:  # a late alarm outside tenant code
            return _err(rid, 'KB_ERR_TIMEOUT', '실행 시간을 넘었습니다 / timed out')

    def _load(self, key, code, version, timeout_ms, t0, lint=False):
        if version is not None and type(version) not in (str, int):
            raise _t.CallError('KB_ERR_PROTOCOL', 'codeVersion must be a string or a number')
        if lint:
            _lint_first(code)
        old = self.modules.get(key)
        try:
            try:
                _t.arm(timeout_ms)
                mod = _t.compile_module(key, code, version)
            finally:
                _t.disarm()
        except _t.Timeout as t:
            line = _t.tenant_line(t.__traceback__)
            source = code.split('\n')[line - 1] if line and type(code) is str else None
            raise _t.timed_out(timeout_ms or 0, line, source, loading=True) from None
        except BaseException:
            # A version that does not load leaves the previous one in service.
            if old is not None:
                sys.modules[old.name] = old.module
            else:
                sys.modules.pop(_t.module_name(key), None)
            raise
        self.modules[key] = mod
        return mod

    def op_load(self, rid, req):
        t0 = _perf()
        key = _module_key(req)
        timeout_ms = _timeout_ms(req)
        self.begin()
        _store.begin_call(req.get('callId'))
        try:
            with _t.Secrets(req.get('secrets')):
                mod = self._load(key, req.get('code'), req.get('codeVersion'), timeout_ms, t0, req.get('lint') is True)
            resp = {'id': rid, 'ok': True, 'module': key, 'codeVersion': mod.version}
        except _t.CallError as e:
            resp = {'id': rid, 'ok': False, 'error': e.as_dict()}
        finally:
            _store.end_call()
        return self.end(resp, t0)

    def op_call(self, rid, req):
        t0 = _perf()
        deadline = req.get('deadline')
        # Requests may be queued here behind others (a dedicated container's calls are pipelined):
        # one whose caller stopped waiting is answered without running (the clock is the host's).
        if type(deadline) in (int, float) and time.time() * 1000 >= deadline:
            return _err(rid, 'KB_ERR_TIMEOUT', '기다리는 사이 마감 시간이 지나 실행하지 않았습니다 / the deadline passed while queued: not run')
        key = _module_key(req)
        timeout_ms = _timeout_ms(req)
        params = req.get('params')
        if params is None:
            params = {}
        self.begin()
        if req.get('stream') is True:
            self.capture.live = _live.LiveOutput(self.chan, rid, jsonc.encode)
        # The code's store requests name this call: the runner admits them while it runs (domaeka/_link.py).
        _store.begin_call(req.get('callId'))
        _outbox.begin_call()
        try:
            with _t.Secrets(req.get('secrets')):
                mod = self.modules.get(key)
                code = req.get('code')
                want = req.get('codeVersion')
                if code is not None and (mod is None or want is None or mod.version != want):
                    mod = self._load(key, code, want, timeout_ms, t0, req.get('lint') is True)
                if mod is None:
                    raise _t.CallError('KB_ERR_NOT_LOADED', 'module %r is not loaded' % key)
                if want is not None and mod.version != want:
                    raise _t.CallError('KB_ERR_NOT_LOADED', 'module %r has version %r, not %r' % (key, mod.version, want))
                remaining = None
                if timeout_ms is not None:
                    remaining = max(timeout_ms - (_perf() - t0) * 1000, 1)
                reply = _t.call(mod, params, remaining, timeout_ms)
            resp = {'id': rid, 'ok': True, 'result': reply}
        except _t.CallError as e:
            resp = {'id': rid, 'ok': False, 'error': e.as_dict()}
        except _result.Failed as f:
            resp = _err(rid, 'KB_ERR_TARGET_FAILED', f.error, text=f.text)
        finally:
            _store.end_call()
            # What send() queued goes out only with a call that ended well (domaeka/_outbox.py).
            sends = _outbox.end_call()
        if sends and resp.get('ok') is True:
            resp['sends'] = sends
        return self.end(resp, t0)

    def op_unload(self, rid, req):
        key = _module_key(req)
        mod = self.modules.pop(key, None)
        if mod is not None and sys.modules.get(mod.name) is mod.module:
            del sys.modules[mod.name]
        return {'id': rid, 'ok': True, 'unloaded': mod is not None}

    def op_lint(self, rid, req):
        code = req.get('code')
        if type(code) is not str:
            raise _t.CallError('KB_ERR_PROTOCOL', 'code must be a string')
        t0 = _perf()
        from . import lint
        findings = lint.lint(code)
        return {'id': rid, 'ok': True, 'findings': findings, 'durationMs': round((_perf() - t0) * 1000, 3)}

    def op_preload(self, rid, req):
        """Import allowlisted libraries ahead (a pooled container, before any tenant code)."""
        from .lint import allowed_module
        names = req.get('modules')
        if type(names) is not list or not all(type(n) is str for n in names):
            raise _t.CallError('KB_ERR_PROTOCOL', 'modules must be a list of strings')
        t0 = _perf()
        self.begin()
        loaded, failed = [], []
        for name in names:
            if not allowed_module(name):
                failed.append(name)
                continue
            try:
                __import__(name)
                loaded.append(name)
            except Exception:
                failed.append(name)
        return self.end({'id': rid, 'ok': True, 'loaded': loaded, 'failed': failed}, t0)


def _lint_first(code):
    """A call that asked for it (editor test runs) is refused as saving would refuse its code:
    the same lint, the first finding's words (kbrt/lint.py, kbrt/explain.py); nothing runs."""
    if type(code) is not str:
        return
    from . import explain, lint
    findings = lint.lint(code)
    # Code that does not parse is refused by the load itself, in the same words (explain.syntax).
    if findings and not findings[0]['message'].startswith('문법 오류'):
        first = findings[0]
        raise _t.CallError('KB_ERR_LINT', first['message'], first['line'], explain=explain.lint_finding(first))


def _reap_children():
    """Collect children of tenant code that have exited. Unreaped they stay
    zombies and hold the container's pids limit for good: in a dedicated
    container (one process serving many calls) a fork bomb would otherwise
    leave it unable to start a thread (test/security, e-dedicated).
    Returns True when children are still running."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        except OSError:
            return False
        if pid == 0:
            return True


def _threads():
    """OS threads of this process now (a raw _thread, like the egress relay, is
    not in threading.enumerate(); /proc counts every one)."""
    try:
        return len(os.listdir('/proc/self/task'))
    except OSError:
        return None


def _settled_threads(before):
    """Threads now; above `before`, looked at again for up to ~20 ms: a thread that tenant code
    joined has let go of Python but may still be on its way out of the kernel (a loaded machine
    schedules its last steps late), and must not count as left running."""
    n = _threads()
    waited = 0
    while n is not None and before is not None and n > before and waited < 20:
        time.sleep(0.001)
        waited += 1
        n = _threads()
    return n


def _read_version(root):
    try:
        with open(root + '/VERSION', encoding='utf-8') as f:
            return f.read().strip() or 'dev'
    except OSError:
        return 'dev'


def main(root):
    """The supervisor (this process) holds the channel; tenant code runs in a
    worker forked from it that never holds it (kbrt/supervisor.py)."""
    # Before any tenant code: no ptrace of PID 1 or of the runtime (kbrt/noptrace.py says why); inherited by the worker.
    if not _noptrace.install():
        os.write(2, b'kbrt: warning: the ptrace seccomp filter could not be installed\n')
    from . import supervisor as _sup
    path = os.environ.pop('KB_RUNTIME_SOCKET', None)
    if path:
        chan = Channel.unix(path)
    else:
        chan = Channel.stdio()
        _sup.stdio_away()
    version = _read_version(root)
    sup = _sup.start(chan, lambda rfd, wfd: _worker(rfd, wfd, version))
    try:
        code = sup.serve()
    except (BrokenPipeError, ConnectionResetError):
        code = 0
    sup.kill_worker()
    os._exit(code)


def _worker(rfd, wfd, version):
    """The worker: today's request loop over its pipe pair to the supervisor."""
    from .channel import WorkerLink
    link = WorkerLink(rfd, wfd)
    if 'KB_EGRESS_SOCKET' in os.environ:  # paid plans: the proxy relay (kbrt/egress.py, imported only then)
        from . import egress
        egress.start()
    # Where the runner serves the store (domaeka.store); the variable leaves os.environ.
    _store.configure(os.environ)
    redirect = _cap.Redirect()
    # A process forked by tenant code loses the link at once.
    os.register_at_fork(after_in_child=link.close)
    rt = Runtime(link, redirect, version)
    try:
        code = rt.serve()
    except (BrokenPipeError, ConnectionResetError):
        code = 0
    os._exit(code)
