"""The supervisor holds the channel; tenant code runs in a worker without it (kbrt/supervisor.py)."""

import os
import unittest

from tests.support import Runtime

OUTPUT_MAX = 64 * 1024

# Runner-protocol frames (a response with 3,000,000 characters of output and a forged result, and
# output events) written to fds 0-20. (/proc/<supervisor>/fd/* is out of reach only for uid 1000, as in
# the container: test/security/h13-4-runtime-channel.test.ts writes there too.)
FORGE_EVERYWHERE = r'''
import os, sys, struct, json, time
def _rid():
    f = sys._getframe()
    while f is not None:
        for v in list(f.f_locals.values()):
            if isinstance(v, dict) and v.get("op") == "call" and "id" in v:
                return v["id"]
        f = f.f_back
def _write(fd, data):
    # As much as the fd takes without blocking for good (a pipe nobody reads), its mode restored after.
    try:
        was = os.get_blocking(fd)
        os.set_blocking(fd, False)
    except OSError:
        return False
    view = memoryview(data)
    wrote = False
    stalled = 0
    try:
        while view and stalled < 50:
            try:
                view = view[os.write(fd, view):]
                wrote = True
                stalled = 0
            except BlockingIOError:
                stalled += 1
                time.sleep(0.001)
    except OSError:
        pass
    finally:
        try:
            os.set_blocking(fd, was)
        except OSError:
            pass
    return wrote
def handle_command(p):
    rid = _rid()
    ev = json.dumps({"id": rid, "event": "output", "data": "E" * 100000}).encode()
    body = json.dumps({"id": rid, "ok": True, "result": {"type": "text", "text": "forged"},
                       "output": "O" * 3000000, "outputTruncated": False}).encode()
    data = struct.pack(">I", len(ev)) + ev + struct.pack(">I", len(body)) + body
    hit = [str(fd) for fd in range(21) if _write(fd, data)]
    print("real print")
    return "real answer"
'''

# A frame in the worker's own format (the link's request number found by a frame walk): the
# tenant's answer by another road, bounded like a returned one; the real answer after it ends the runtime.
FORGE_WORKER_FORMAT = r'''
import os, sys, struct, json
def handle_command(p):
    f = sys._getframe()
    link = rid = None
    while f is not None:
        s = f.f_locals.get("self")
        if s is not None and hasattr(getattr(s, "chan", None), "seq"):
            link = s.chan
        if "rid" in f.f_locals:
            rid = f.f_locals["rid"]
        f = f.f_back
    body = json.dumps({"id": rid, "ok": True, "result": {"type": "text", "text": "claimed"},
                       "output": "O" * 300000, "outputTruncated": False}).encode()
    os.write(link.wfd, struct.pack(">II", len(body), link.seq) + body)
    return "real"
'''


class Supervisor(unittest.TestCase):
    def test_ready_names_the_supervisor_and_its_worker(self):
        with Runtime() as rt:
            self.assertEqual(rt.ready['pid'], rt.proc.pid)
            self.assertNotEqual(rt.ready['worker'], rt.proc.pid)
            r = rt.call('import os\ndef handle_command(p):\n    return f"{os.getpid()} {os.getppid()}"\n')
            self.assertEqual(r['result']['text'], '%d %d' % (rt.ready['worker'], rt.proc.pid))

    def test_runner_frames_written_everywhere_never_reach_the_runner(self):
        with Runtime() as rt:
            r = rt.call(FORGE_EVERYWHERE, rid=7, stream=True)
            # Among fds 0-20 is the worker's link: not the worker's format, so a clear refusal, never the forged answer.
            self.assertEqual((r['id'], r['ok'], r['error']['code']), (7, False, 'KB_ERR_SANDBOX_CRASHED'))
            self.assertIn('the runtime channel was misused', r['error']['message'])
            self.assertNotIn('result', r)
            self.assertEqual(r['output'], '')
            self.assertIsNone(rt.read())  # nothing else came through
            self.assertEqual(rt.proc.wait(timeout=5), 3)

    def test_a_worker_format_frame_is_capped_and_the_second_answer_ends_the_runtime(self):
        with Runtime() as rt:
            r = rt.call(FORGE_WORKER_FORMAT, rid=3)
            self.assertEqual(r['id'], 3)
            self.assertEqual(len(r['output'].encode()), OUTPUT_MAX)
            self.assertTrue(r['outputTruncated'])
            # The worker's real answer comes after: a misuse, the runtime ends (the runner never reuses it).
            self.assertIsNone(rt.read())
            self.assertEqual(rt.proc.wait(timeout=5), 3)
            self.assertIn('the runtime channel was misused', rt.stderr())

    def test_garbage_on_the_worker_link_fails_the_call_clearly(self):
        code = ('import os, sys\ndef handle_command(p):\n'
                '    f = sys._getframe()\n'
                '    while f is not None and not hasattr(getattr(f.f_locals.get("self"), "chan", None), "seq"):\n'
                '        f = f.f_back\n'
                '    link = f.f_locals["self"].chan\n'
                '    os.write(link.wfd, (5).to_bytes(4, "big") + link.seq.to_bytes(4, "big") + b"nope!")\n'
                '    return "real"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=4)
            self.assertEqual((r['id'], r['ok'], r['error']['code']), (4, False, 'KB_ERR_SANDBOX_CRASHED'))
            self.assertIn('the runtime channel was misused', r['error']['message'])
            self.assertEqual(rt.proc.wait(timeout=5), 3)

    def test_the_worker_dying_ends_the_runtime_with_its_status(self):
        with Runtime() as rt:
            rt.send({'id': 1, 'op': 'call', 'params': {}, 'code': 'import os\ndef handle_command(p):\n    os.kill(os.getpid(), 9)\n'})
            self.assertIsNone(rt.read())
            self.assertEqual(rt.proc.wait(timeout=5), 137)

    def test_killing_the_supervisor_takes_the_worker_along(self):
        with Runtime() as rt:
            worker = rt.ready['worker']
            rt.send({'id': 1, 'op': 'call', 'params': {}, 'code': 'import os\ndef handle_command(p):\n    os.kill(os.getppid(), 9)\n    import time\n    time.sleep(30)\n'})
            self.assertIsNone(rt.read())
            for _ in range(200):
                try:
                    with open('/proc/%d/stat' % worker) as f:
                        if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                            break
                except OSError:
                    break
                import time
                time.sleep(0.01)
            else:
                self.fail('the worker outlived its supervisor')

    @unittest.skipIf(os.getuid() == 0, 'root reaches a non-dumpable process anyway (CAP_SYS_PTRACE); the container runs as uid 1000')
    def test_the_supervisors_fds_are_out_of_reach(self):
        code = ('import os\ndef handle_command(p):\n'
                '    try:\n        os.listdir("/proc/%d/fd" % os.getppid())\n        return "listed"\n'
                '    except OSError as e:\n        return str(e.errno)\n')
        with Runtime() as rt:
            self.assertEqual(rt.call(code)['result']['text'], '13')


if __name__ == '__main__':
    unittest.main()
