import { expect } from 'vitest';
import { TIMEOUT_MS, errno, fails, prog, text, timeout, type Hostile } from './shared.js';

export const TIMEOUTS: Hostile[] = [
  timeout('CPU spin', `
def handle_command(p):
    while True:
        pass
`),
  timeout('CPU spin swallowing the soft timeout (BaseException)', `
def handle_command(p):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
`),
  timeout('sleep forever', `
import time
def handle_command(p):
    time.sleep(10 ** 6)
`),
  timeout('never returning (deadlocked lock, timeout swallowed)', `
import threading
def handle_command(p):
    lock = threading.Lock()
    lock.acquire()
    while True:
        try:
            lock.acquire()
        except BaseException:
            pass
`),
  timeout('blocking on stdin (sys.stdin.read)', `
def handle_command(p):
    return sys.stdin.read()
`),
  timeout('blocking on fd 0 (os.read)', `
def handle_command(p):
    return os.read(0, 1).decode()
`),
  timeout('async handler awaiting forever', `
import asyncio
async def handle_command(p):
    await asyncio.Event().wait()
`),
];

export const MEMORY: Hostile[] = [
  {
    name: 'memory bomb (list of 1 MB blocks)',
    row: 'memory bomb; 100 MB result built in memory',
    code: prog(`
def handle_command(p):
    blocks = []
    while True:
        blocks.append(bytearray(1024 * 1024))
`),
    goneAtAnswer: true,
    check: fails('KB_ERR_MEMORY_LIMIT'),
  },
  {
    name: '100 MB result string',
    row: 'memory bomb; 100 MB result built in memory',
    code: prog(`
def handle_command(p):
    return "x" * (100 * 1024 * 1024)
`),
    check: fails('KB_ERR_MEMORY_LIMIT', 'KB_ERR_OUTPUT_LIMIT'),
  },
  {
    name: '100 MB result in {text} with 100 buttons of 1 MB',
    row: 'memory bomb; 100 MB result built in memory',
    code: prog(`
def handle_command(p):
    big = "y" * (1024 * 1024)
    return {"text": "hi", "buttons": [{"label": big + str(i), "url": "https://e.example/" + big} for i in range(50)]}
`),
    check: fails('KB_ERR_MEMORY_LIMIT', 'KB_ERR_OUTPUT_LIMIT'),
  },
];

export const PIDS: Hostile[] = [
  {
    name: 'fork bomb',
    row: 'fork bomb; 10,000 threads',
    code: prog(`
import time
def handle_command(p):
    n = 0
    try:
        while n < 10000:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            n += 1
    except OSError as e:
        return f"{_e(e)}:{n}"
    return f"ALL:None:{n}"
`),
    check: (r) => {
      errno(/^(BlockingIOError|OSError)$/, 'EAGAIN')(r);
      // The pids limit (64, shared with the runtime and tini) stopped it.
      expect(Number(String(r.result?.text).split(':')[2])).toBeLessThan(64);
    },
  },
  {
    name: '10,000 threads',
    row: 'fork bomb; 10,000 threads',
    code: prog(`
import threading
def handle_command(p):
    stop = threading.Event()
    n = 0
    try:
        for _ in range(10000):
            threading.Thread(target=stop.wait, daemon=True).start()
            n += 1
    except RuntimeError as e:
        stop.set()
        return f"RuntimeError:None:{n}:{e}"
    stop.set()
    return f"ALL:None:{n}"
`),
    check: (r) => {
      expect(r.error, JSON.stringify(r.error)).toBeNull();
      const t = String(r.result?.text);
      expect(t).toMatch(/^RuntimeError:None:\d+:can't start new thread/);
      expect(Number(t.split(':')[2])).toBeLessThan(64);
    },
  },
];

export const OUTPUT: Hostile[] = [
  {
    name: 'stdout flood (200,000 prints), then return',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    for i in range(200000):
        print("flood line", i)
    return "flood done"
`),
    check: (r) => {
      text(/^flood done$/)(r);
      expect(r.outputTruncated).toBe(true);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
  {
    name: 'one 10 MB print',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    print("Q" * (10 * 1024 * 1024))
    return "big print done"
`),
    check: (r) => {
      text(/^big print done$/)(r);
      expect(r.outputTruncated).toBe(true);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
  {
    name: 'os.write flood on fds 1 and 2 (never blocks)',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    chunk = b"W" * 65536
    blocked = 0
    for i in range(300):
        for fd in (1, 2):
            try:
                os.write(fd, chunk)
            except BlockingIOError:
                blocked += 1
    return f"os.write done, {blocked} refused"
`),
    // Raw fd writes meet a non-blocking capture pipe: past what the capture holds they are refused
    // (EAGAIN, sandbox-image/README.md "Output"), so the flood is capped at the source: the tenant
    // sees BlockingIOError and the output stays within the cap (marked when more was taken in).
    check: (r) => {
      text(/^os\.write done, \d+ refused$/)(r);
      const refused = Number(/(\d+) refused/.exec(String(r.result?.text))![1]);
      expect(r.outputTruncated || refused > 0).toBe(true);
      expect(refused).toBeGreaterThan(0);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
  {
    name: 'endless stdout flood',
    row: 'stdout flood; one 10 MB print',
    code: prog(`
def handle_command(p):
    while True:
        print("endless" * 100)
`),
    timeoutMs: TIMEOUT_MS,
    goneAtAnswer: true,
    // The run ends (soft timeout); nothing of the flood is kept beyond the cap.
    check: (r) => {
      fails('KB_ERR_TIMEOUT')(r);
      expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(64 * 1024);
    },
  },
];
