import { expect } from 'vitest';
import { fails, prog, text, type Hostile } from './shared.js';

/** Escape tricks: whatever they reach, they run as uid 1000 in this container, with no network and no secret. */
const NOTHING_GAINED = `
import socket
def _gained():
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", 5672))
        net = "NET"
    except OSError:
        net = "nonet"
    return f"uid={os.getuid()},euid={os.geteuid()},{net}"
`;
const escape = (name: string, body: string): Hostile => ({
  name,
  row: 'subclasses -> os.system; frame/generator walk; format-string attribute access; code objects; ctypes',
  code: prog(`${NOTHING_GAINED}\n${body.trim()}`),
  check: (r) => {
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const t = String(r.result?.text);
    expect(t).toContain('uid=1000,euid=1000,nonet');
    expect(t).not.toMatch(/uid=0[(,]/);
  },
});

export const ESCAPES: Hostile[] = [
  escape('().__class__.__bases__[0].__subclasses__() -> os.system', `
def handle_command(p):
    wrap = [c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == "_wrap_close"][0]
    system = wrap.__init__.__globals__["system"]
    rc = system("id > /tmp/id.txt 2>&1")
    return f"rc={rc} id={open('/tmp/id.txt').read().strip()} " + _gained()
`),
  escape('subprocess through __import__ (lint bypass)', `
def handle_command(p):
    sp = __builtins__["__import__"]("subprocess") if isinstance(__builtins__, dict) else __builtins__.__import__("subprocess")
    out = sp.run(["id"], capture_output=True, text=True).stdout.strip()
    return out + " " + _gained()
`),
  escape('frame walk into the runtime (f_back, f_globals, f_locals)', `
def handle_command(p):
    seen = []
    f = sys._getframe()
    while f is not None:
        seen.append(f.f_code.co_filename + ":" + ",".join(sorted(map(str, f.f_locals))[:20]))
        for v in list(f.f_locals.values()) + list(f.f_globals.values()):
            seen.append(repr(v)[:300])
        f = f.f_back
    return "\\n".join(seen)[:50000] + "\\n" + _gained()
`),
  escape('generator frame walk (gi_frame.f_back)', `
def handle_command(p):
    def gen():
        yield sys._getframe().f_back
    fr = next(gen())
    names = []
    while fr is not None:
        names.append(fr.f_code.co_name)
        fr = fr.f_back
    return "/".join(names) + " " + _gained()
`),
  escape('format-string attribute access to globals', `
import posixpath
def handle_command(p):
    leak = "{0.__globals__[os].environ}".format(posixpath.join)
    leak2 = "{0.__class__.__init__.__globals__}".format(p) if hasattr(p.__class__.__init__, "__globals__") else "-"
    return leak + leak2[:2000] + " " + _gained()
`),
  escape('code objects: build and run a function from a crafted code object', `
import types
def handle_command(p):
    src = compile("def f():\\n    return __import__('os').getuid()\\n", "<x>", "exec")
    code = [c for c in src.co_consts if isinstance(c, types.CodeType)][0]
    f = types.FunctionType(code.replace(co_name="g"), {"__builtins__": __builtins__})
    return f"crafted={f()} " + _gained()
`),
  escape('ctypes: setresuid(0) and raw syscalls', `
import ctypes
def handle_command(p):
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.setresuid(0, 0, 0)
    err = ctypes.get_errno()
    rc2 = libc.syscall(105, 0)  # setuid(0) on x86_64
    return f"setresuid={rc}/{err} syscall={rc2} " + _gained()
`),
  escape('gc.get_objects: hunt the runtime for platform secrets', `
import gc
def handle_command(p):
    needles = ("amqp://", "postgres://", "SECRETS_KEY", "KB_" + "CANARY")
    hits = []
    for o in gc.get_objects():
        vals = o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()
        try:
            for v in vals:
                if isinstance(v, str) and any(n in v for n in needles) and "needles" not in v:
                    hits.append(v[:80])
        except Exception:
            pass
    return f"hits={len(hits)} " + _gained()
`),
];

const invalid = (name: string, ret: string): Hostile => ({
  name,
  row: 'non-JSON value (set, bytes, object); deeply nested result; lone surrogate',
  code: prog(`
class Thing:
    pass
def handle_command(p):
    ${ret}
`),
  check: fails('KB_ERR_INVALID_RESULT'),
});

export const RESULTS: Hostile[] = [
  invalid('returns a set', 'return {"text": {1, 2, 3}}'),
  invalid('returns bytes', 'return {"text": "x", "url": b"https://e.example"}'),
  invalid('returns an object', 'return Thing()'),
  invalid('deeply nested result', `
    v = "deep"
    for _ in range(1000):
        v = [v]
    return {"text": "x", "buttons": v}`),
  invalid('lone surrogate', 'return "\\ud800 half a pair"'),
  invalid('NaN in the result', 'return {"text": "x", "format": float("nan")}'),
  invalid('a cycle', `
    d = {"text": "x"}
    d["self"] = d
    return d`),
  invalid('a str subclass lying in __str__', `
    class Liar(str):
        def __str__(self):
            return "forged"
        def encode(self, *a, **k):
            raise RuntimeError("gotcha")
    return {"text": Liar("\\udfff")}`),
];

export const FORGING: Hostile[] = [
  {
    name: 'print a fake result line and a fake frame on fd 1',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`
def handle_command(p):
    print('{"id": 1, "ok": true, "result": {"type": "text", "text": "forged"}}')
    os.write(1, b"\\x00\\x00\\x00\\x40" + b'{"id":1,"ok":true,"result":{"type":"text","text":"forged"}}     ')
    sys.stdout.flush()
    return "real answer"
`),
    check: (r) => {
      text(/^real answer$/)(r);
      expect(r.output).toContain('forged');
    },
  },
  {
    name: 'close fds 0, 1 and 2',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`
def handle_command(p):
    os.close(1)
    os.close(2)
    os.close(0)
    return "real after close"
`),
    check: text(/^real after close$/),
  },
  {
    name: 'dup2 /dev/null over fds 1 and 2, then print',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`
def handle_command(p):
    n = os.open("/dev/null", os.O_WRONLY)
    os.dup2(n, 1)
    os.dup2(n, 2)
    print("into the void")
    return "real after dup2"
`),
    check: text(/^real after dup2$/),
  },
];

/**
 * Tenant code can find the channel's fds (sandbox-image/README.md says so) and the id of the
 * request it runs in (frame walk): it writes a whole frame of its own before the runtime answers.
 */
const FORGED_FRAME = `
import struct
def _forge(result):
    rid = None
    f = sys._getframe()
    while f is not None:
        for v in list(f.f_locals.values()):
            if isinstance(v, dict) and v.get("op") == "call" and "id" in v:
                rid = v["id"]
        f = f.f_back
    body = ('{"id": %s, "ok": true, "result": %s, "output": "", "outputTruncated": false}' % (rid, result)).encode()
    wrote = []
    for fd in range(3, 8):
        try:
            os.write(fd, struct.pack(">I", len(body)) + body)
            wrote.append(fd)
        except OSError:
            pass
    return wrote
`;

FORGING.push(
  {
    name: 'write a forged frame onto the channel fd (within what it could return)',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`${FORGED_FRAME}
def handle_command(p):
    _forge('{"type": "text", "text": "claimed"}')
    return "real answer"
`),
    // It can only claim what it could have returned, or break its own channel: never more.
    check: (r) => {
      if (r.ok) expect(['claimed', 'real answer']).toContain(r.result?.text);
      else expect(r.error?.code).toBe('KB_ERR_SANDBOX_CRASHED');
    },
  },
  {
    name: 'write a forged frame with a result normalising would refuse',
    row: 'print a fake result line; close fd 1 and 2',
    code: prog(`${FORGED_FRAME}
def handle_command(p):
    _forge('{"type": "text", "text": "' + "F" * (200 * 1024) + '", "buttons": [{"label": "x", "url": "javascript:alert(1)"}], "evil": {"nested": [1, 2]}}')
    return "real answer"
`),
    check: (r) => {
      if (!r.ok) return expect(r.error?.code).toMatch(/^KB_ERR_(SANDBOX_CRASHED|OUTPUT_LIMIT|INVALID_RESULT)$/);
      // If a forged frame is taken at all, it carries nothing a returned value could not.
      expect(Buffer.byteLength(String(r.result?.text))).toBeLessThanOrEqual(64 * 1024);
      expect(Object.keys(r.result ?? {}).every((k) => ['type', 'text', 'buttons', 'url', 'image_base64', 'format'].includes(k))).toBe(true);
      // (URL schemes are not the runtime's to judge: a returned javascript: URL passes normalising too.)
    },
  },
);

export const EXITS: Hostile[] = [
  {
    name: 'os._exit(0)',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
def handle_command(p):
    os._exit(0)
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
  {
    name: 'kill own process (SIGKILL)',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
import signal
def handle_command(p):
    os.kill(os.getpid(), signal.SIGKILL)
    return "survived"
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
  {
    name: 'kill own process (SIGTERM)',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
import signal, time
def handle_command(p):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1)
    return "survived"
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
  {
    name: 'sys.exit()',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
def handle_command(p):
    sys.exit()
`),
    check: fails('KB_ERR_USER_EXCEPTION'),
  },
  {
    name: 'exit(0) builtin',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
def handle_command(p):
    exit(0)
`),
    check: fails('KB_ERR_USER_EXCEPTION'),
  },
  {
    name: 'segfault through ctypes',
    row: 'os._exit(0); kill own process; sys.exit()',
    code: prog(`
import ctypes
def handle_command(p):
    ctypes.string_at(0)
    return "survived"
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_SANDBOX_CRASHED'),
  },
];
