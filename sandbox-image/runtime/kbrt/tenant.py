"""Loading tenant code and calling handle_command(params).

Tenant code is compiled with the file name '<tenant>'; tracebacks keep only
frames of that file. A soft timeout (SIGALRM) interrupts Python code at
timeoutMs; the runner still kills the container when that does not work
(code stuck in C, or code that catches the timeout).
"""

import os
import sys
import _signal

from . import result as _result

TENANT_FILE = '<tenant>'
TRACE_MAX_FRAMES = 20
MESSAGE_MAX = 2000


class Timeout(BaseException):
    """Raised into tenant code by SIGALRM (BaseException: `except Exception` does not swallow it)."""


def _on_alarm(signum, frame):
    raise Timeout()


_signal.signal(_signal.SIGALRM, _on_alarm)


def arm(timeout_ms):
    if timeout_ms and timeout_ms > 0:
        _signal.setitimer(_signal.ITIMER_REAL, timeout_ms / 1000.0)


def disarm():
    _signal.setitimer(_signal.ITIMER_REAL, 0)


class CallError(Exception):
    """explain: kbrt/explain.py's {code, line, message_ko, hint_ko}, sent as `explanation: {message, hint}`."""

    def __init__(self, code, message, line=None, trace=None, explain=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.line = line
        self.trace = trace
        self.explain = explain

    def as_dict(self):
        err = {'code': self.code, 'message': self.message}
        if self.line is not None:
            err['line'] = self.line
        if self.trace:
            err['traceback'] = self.trace
        if self.explain:
            err['explanation'] = {'message': self.explain['message_ko'], 'hint': self.explain['hint_ko']}
        return err


def _safe_str(x, limit=MESSAGE_MAX):
    """str() of a tenant object without trusting it (its __str__ may raise)."""
    try:
        s = str(x)
        if type(s) is not str:
            s = str.__str__(s)
    except BaseException as e:  # noqa: B036 - tenant __str__ may raise anything
        if isinstance(e, Timeout):
            raise
        s = '<unprintable %s>' % type.__dict__['__name__'].__get__(type(x))
    if len(s) > limit:
        s = s[:limit] + '...'
    return s.encode('utf-8', 'replace').decode('utf-8')


def _exc_name(e):
    t = type(e)
    name = type.__dict__['__name__'].__get__(t)
    mod = type.__dict__['__module__'].__get__(t)
    if mod not in ('builtins', '__main__') and type(mod) is str and not mod.startswith('tenant'):
        return '%s.%s' % (mod, name)
    return name


def module_name(key):
    """The sys.modules name of a tenant program ('tenant' for the default key)."""
    if key == 'main':
        return 'tenant'
    return 'tenant_' + ''.join(c if c.isalnum() else '_' for c in key)[:60]


class Module:
    """One loaded tenant program (a dedicated container may hold several)."""

    def __init__(self, key, code, version):
        self.key = key
        self.version = version
        self.source_lines = code.split('\n')
        self.name = module_name(key)
        self.module = type(sys)(self.name)
        self.module.__file__ = TENANT_FILE
        self.handler = None

    def trace(self, tb):
        """Traceback text with only the tenant's own frames, and the line of the innermost."""
        frames = []
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == TENANT_FILE:
                frames.append((tb.tb_lineno, code.co_name))
            tb = tb.tb_next
        return frames

    def source(self, lineno):
        if lineno and 0 < lineno <= len(self.source_lines):
            return self.source_lines[lineno - 1]
        return None

    def format(self, e, frames):
        lines = ['Traceback (most recent call last):']
        shown = frames
        if len(frames) > TRACE_MAX_FRAMES:
            shown = frames[:3] + [None] + frames[-(TRACE_MAX_FRAMES - 3):]
        for f in shown:
            if f is None:
                lines.append('  ... (%d frames) ...' % (len(frames) - TRACE_MAX_FRAMES))
                continue
            lineno, fn = f
            lines.append('  File "%s", line %d, in %s' % (TENANT_FILE, lineno, fn))
            if 0 < lineno <= len(self.source_lines):
                src = self.source_lines[lineno - 1].strip()
                if src:
                    lines.append('    ' + src[:200])
        msg = _safe_str(e)
        lines.append('%s: %s' % (_exc_name(e), msg) if msg else _exc_name(e))
        return '\n'.join(lines)

    def user_error(self, e, params=None):
        frames = self.trace(e.__traceback__)
        line = frames[-1][0] if frames else None
        if isinstance(e, SyntaxError) and e.filename == TENANT_FILE and e.lineno:
            line = e.lineno
        msg = _safe_str(e)
        name = _exc_name(e)
        if _over_quota(e):
            # The plan's store is full: the room and the editor get the platform's own Korean error, not a traceback's.
            return CallError('KB_ERR_STORAGE_QUOTA', msg, line, self.format(e, frames))
        if isinstance(e, SystemExit):
            message = 'sys.exit()로 끝냈습니다 / SystemExit(%s)' % msg
        else:
            message = '%s: %s' % (name, msg) if msg else name
        from . import explain
        last = _innermost(e.__traceback__)
        said = explain.exception(e, name, msg, line, last.tb_frame if last is not None else None, params, self.source(line))
        return CallError('KB_ERR_USER_EXCEPTION', message, line, self.format(e, frames), said)


def _innermost(tb):
    """The innermost traceback entry of tenant code (None: none of its frames)."""
    last = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TENANT_FILE:
            last = tb
        tb = tb.tb_next
    return last


def tenant_line(tb):
    """The innermost tenant line of a traceback (what was running when a timeout struck), or None."""
    last = _innermost(tb)
    return last.tb_lineno if last is not None else None


def timed_out(shown_ms, line, source, loading=False):
    """KB_ERR_TIMEOUT of a load or a call: Korean first, with the line that was running when known."""
    from . import explain
    budget = explain.seconds(shown_ms)
    if loading:
        message = '코드를 불러오는 중 %s 안에 끝나지 않았습니다 / timed out after %d ms loading the code' % (budget, shown_ms)
    else:
        message = '%s 안에 끝나지 않았습니다 / timed out after %d ms' % (budget, shown_ms)
    return CallError('KB_ERR_TIMEOUT', message, line, None, explain.timeout(shown_ms, line, source))


def _over_quota(e):
    """True for the store's QuotaExceeded (domaeka/errors.py), when tenant code imported the store at all."""
    errors = sys.modules.get('domaeka.errors')
    quota = getattr(errors, 'QuotaExceeded', None) if errors is not None else None
    return quota is not None and issubclass(type(e), quota)


def compile_module(key, code, version):
    """Compile and execute a tenant program; returns the Module or raises CallError."""
    if type(code) is not str:
        raise CallError('KB_ERR_PROTOCOL', 'code must be a string')
    mod = Module(key, code, version)
    try:
        obj = compile(code, TENANT_FILE, 'exec', dont_inherit=True)
    except SyntaxError as e:
        from . import explain
        col = e.offset or 0
        kind = type.__dict__['__name__'].__get__(type(e))
        sentence, hint = explain.syntax_sentence(kind, e.msg)
        raise CallError('KB_ERR_LINT', '문법 오류: %s (%d행 %d열) / syntax error: %s (line %d, column %d)'
                        % (sentence, e.lineno or 0, col, e.msg, e.lineno or 0, col), e.lineno,
                        explain=explain.syntax(kind, e.msg, e.lineno)) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:
        raise CallError('KB_ERR_LINT', '코드를 컴파일할 수 없습니다 / cannot compile: %s' % _safe_str(e)) from None
    g = mod.module.__dict__
    g['__builtins__'] = __builtins__
    sys.modules[mod.name] = mod.module
    try:
        exec(obj, g)
    except Timeout:
        raise
    except MemoryError:
        raise CallError('KB_ERR_MEMORY_LIMIT', '메모리 한도를 넘었습니다 / memory limit exceeded (MemoryError)') from None
    except BaseException as e:  # noqa: B036 - everything the tenant raises is the tenant's
        raise mod.user_error(e) from None
    handler = g.get('handle_command')
    if handler is None:
        raise CallError('KB_ERR_LINT', 'handle_command 함수가 없습니다 / handle_command is not defined', 1)
    if not callable(handler):
        raise CallError('KB_ERR_LINT', 'handle_command가 함수가 아닙니다 / handle_command is not a function', 1)
    mod.handler = handler
    return mod


_loop = None


def _run_async(awaitable):
    """Run a coroutine on one persistent event loop (asyncio imported on first use)."""
    global _loop
    import asyncio
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        # "Task was destroyed but it is pending" and the like never reach any output.
        _loop.set_exception_handler(lambda loop, ctx: None)
    asyncio.set_event_loop(_loop)
    task = asyncio.ensure_future(awaitable, loop=_loop)
    try:
        return _loop.run_until_complete(task)
    except BaseException:
        if not task.done():
            # Interrupted (timeout): this loop is in an unknown state; start afresh next time.
            task.cancel()
            loop, _loop = _loop, None
            try:
                loop.close()
            except BaseException:  # noqa: B036
                pass
        raise


def _is_awaitable(r):
    try:
        return hasattr(type(r), '__await__')
    except Exception:  # a hostile metaclass
        return False


class Secrets:
    """Tenant secrets in os.environ for one call; the previous values come back after."""

    def __init__(self, secrets):
        self.saved = {}
        self.secrets = {}
        if secrets:
            if type(secrets) is not dict:
                raise CallError('KB_ERR_PROTOCOL', 'secrets must be an object of strings')
            for k, v in secrets.items():
                if type(k) is not str or type(v) is not str or not k or '=' in k or '\0' in k or '\0' in v:
                    raise CallError('KB_ERR_PROTOCOL', 'invalid secret name or value')
                self.secrets[k] = v

    def __enter__(self):
        for k, v in self.secrets.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k in self.secrets:
            old = self.saved.get(k)
            try:
                if old is None:
                    os.environ.pop(k, None)
                    if k in os.environ:  # pragma: no cover
                        del os.environ[k]
                else:
                    os.environ[k] = old
            except BaseException:  # noqa: B036 - tenant may have broken os.environ
                pass
        return False


def call(mod, params, timeout_ms, shown_ms=None):
    """handle_command(params) -> the normalised reply; raises CallError.
    shown_ms: the timeout named in the error (the call's whole budget)."""
    shown = int(shown_ms or timeout_ms or 0)
    try:
        try:
            arm(timeout_ms)
            r = mod.handler(params)
            if _is_awaitable(r):
                r = _run_async(r)
            return _result.normalise(r)
        finally:
            disarm()
    except Timeout as t:
        line = tenant_line(t.__traceback__)
        raise timed_out(shown, line, mod.source(line)) from None
    except _result.ResultError as e:
        raise CallError(e.code, e.message) from None
    except _result.Failed:
        raise
    except MemoryError:
        raise CallError('KB_ERR_MEMORY_LIMIT', '메모리 한도를 넘었습니다 / memory limit exceeded (MemoryError)') from None
    except BaseException as e:  # noqa: B036 - SystemExit, KeyboardInterrupt, ... are the tenant's
        raise mod.user_error(e, params) from None
