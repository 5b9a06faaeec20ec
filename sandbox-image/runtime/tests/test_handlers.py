import os
import unittest

from tests.support import Runtime, params

COUNTER = ('count = 0\n'
           'def handle_command(p):\n'
           '    global count\n'
           '    count += 1\n'
           '    return {"text": "%s %d" % (TAG, count)}\n')


class Handlers(unittest.TestCase):
    def test_sync_gets_the_seed_request(self):
        code = ('def handle_command(params):\n'
                '    return "%s|%s|%s|%s" % (params["command"], params["parameters"][0], params["sender"],'
                ' params["metadata"]["event_id"])\n')
        with Runtime() as rt:
            r = rt.call(code, params('화도읍'))
            self.assertEqual(r['result'], {'type': 'text', 'text': '날씨|화도읍|홍길동|e1'})
            self.assertIsInstance(r['durationMs'], (int, float))

    def test_async_handlers(self):
        with Runtime() as rt:
            r = rt.call('async def handle_command(p):\n    return "plain async"\n', codeVersion='1')
            self.assertEqual(r['result']['text'], 'plain async')
            code = ('import asyncio\n'
                    'async def f(x):\n'
                    '    await asyncio.sleep(0.01)\n'
                    '    return x\n'
                    'async def handle_command(p):\n'
                    '    a, b = await asyncio.gather(f("비"), f("동"))\n'
                    '    return {"text": a + b}\n')
            self.assertEqual(rt.call(code, codeVersion='2')['result']['text'], '비동')
            # a sync handler returning an awaitable is awaited too
            code = 'async def inner():\n    return "inner"\ndef handle_command(p):\n    return inner()\n'
            self.assertEqual(rt.call(code, codeVersion='3')['result']['text'], 'inner')

    def test_async_timeout_then_async_again(self):
        with Runtime() as rt:
            code = 'import asyncio\nasync def handle_command(p):\n    await asyncio.sleep(60)\n'
            r = rt.call(code, timeoutMs=200, codeVersion='1')
            self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT')
            self.assertEqual(r['output'], '')
            code = 'import asyncio\nasync def handle_command(p):\n    await asyncio.sleep(0)\n    return "again"\n'
            r = rt.call(code, timeoutMs=1000, codeVersion='2')
            self.assertEqual((r['result']['text'], r['output']), ('again', ''))

    def test_module_state_kept_between_calls(self):
        with Runtime() as rt:
            r = rt.request({'id': 1, 'op': 'load', 'code': 'TAG = "a"\n' + COUNTER, 'codeVersion': 'v1'})
            self.assertTrue(r['ok'], r)
            self.assertEqual([rt.call(rid=i)['result']['text'] for i in range(3)], ['a 1', 'a 2', 'a 3'])
            # the same version sent inline is not reloaded
            self.assertEqual(rt.call('TAG = "a"\n' + COUNTER, codeVersion='v1')['result']['text'], 'a 4')
            # a second program in the same process has its own state
            r = rt.call('TAG = "b"\n' + COUNTER, module='cmd2', codeVersion='w1')
            self.assertEqual(r['result']['text'], 'b 1')
            self.assertEqual(rt.call()['result']['text'], 'a 5')
            # a new version starts afresh
            self.assertEqual(rt.call('TAG = "a2"\n' + COUNTER, codeVersion='v2')['result']['text'], 'a2 1')

    def test_a_version_that_fails_to_load_leaves_the_old_one(self):
        with Runtime() as rt:
            rt.request({'id': 1, 'op': 'load', 'code': 'TAG = "old"\n' + COUNTER, 'codeVersion': 'v1'})
            self.assertEqual(rt.call()['result']['text'], 'old 1')
            r = rt.request({'id': 2, 'op': 'load', 'code': 'raise ValueError("broken")\n', 'codeVersion': 'v2'})
            self.assertFalse(r['ok'])
            r = rt.call()
            self.assertEqual(r['result']['text'], 'old 2')
            r = rt.call(codeVersion='v2')
            self.assertEqual(r['error']['code'], 'KB_ERR_NOT_LOADED')

    def test_not_loaded_and_unload(self):
        with Runtime() as rt:
            self.assertEqual(rt.call()['error']['code'], 'KB_ERR_NOT_LOADED')
            rt.request({'id': 1, 'op': 'load', 'code': 'TAG = "x"\n' + COUNTER, 'codeVersion': 1})
            self.assertEqual(rt.request({'id': 2, 'op': 'unload'}), {'id': 2, 'ok': True, 'unloaded': True})
            self.assertEqual(rt.call()['error']['code'], 'KB_ERR_NOT_LOADED')

    def test_dataclasses_and_typing_work_in_tenant_modules(self):
        code = ('from __future__ import annotations\n'
                'from dataclasses import dataclass\n'
                'from typing import ClassVar, Optional\n'
                '@dataclass\n'
                'class Item:\n'
                '    name: str\n'
                '    qty: Optional[int] = None\n'
                '    kind: ClassVar[str] = "x"\n'
                'def handle_command(p):\n'
                '    return Item("사과", 3).name\n')
        with Runtime() as rt:
            self.assertEqual(rt.call(code)['result']['text'], '사과')


class Secrets(unittest.TestCase):
    def test_secrets_only_during_the_call(self):
        code = ('import os\n'
                'AT_LOAD = os.environ.get("API_KEY")\n'
                'def handle_command(p):\n'
                '    return "%s|%s|%s" % (AT_LOAD, os.environ.get("API_KEY"), os.environ.get("PATH"))\n')
        with Runtime(env={'PATH': '/usr/bin'}) as rt:
            r = rt.call(code, secrets={'API_KEY': 's3cr3t', 'PATH': '/secret/path'}, codeVersion='1')
            self.assertEqual(r['result']['text'], 's3cr3t|s3cr3t|/secret/path')
            r = rt.call(codeVersion='1')
            self.assertEqual(r['result']['text'], 's3cr3t|None|/usr/bin')  # module state is the tenant's own
            r = rt.call('import os\ndef handle_command(p):\n    return repr(sorted(os.environ))\n', codeVersion='2')
            self.assertNotIn('API_KEY', r['result']['text'])

    def test_secrets_removed_after_a_failing_call(self):
        with Runtime() as rt:
            r = rt.call('import os\ndef handle_command(p):\n    raise RuntimeError(os.environ["TOKEN"])\n',
                        secrets={'TOKEN': 'abc'}, codeVersion='1')
            self.assertIn('abc', r['error']['message'])
            r = rt.call('import os\ndef handle_command(p):\n    return str(os.environ.get("TOKEN"))\n', codeVersion='2')
            self.assertEqual(r['result']['text'], 'None')

    def test_bad_secrets_are_refused(self):
        with Runtime() as rt:
            for bad in ({'A=B': 'x'}, {'A': 1}, ['A'], {'': 'x'}, {'A': 'x\0y'}):
                r = rt.call('def handle_command(p):\n    return "x"\n', secrets=bad)
                self.assertEqual(r['error']['code'], 'KB_ERR_PROTOCOL', bad)


class Process(unittest.TestCase):
    def test_a_forked_child_never_answers(self):
        code = ('import os\n'
                'def handle_command(p):\n'
                '    pid = os.fork()\n'
                '    if pid == 0:\n'
                '        return "from the child"\n'
                '    os.waitpid(pid, 0)\n'
                '    return "from the parent"\n')
        with Runtime() as rt:
            r = rt.call(code)
            self.assertEqual(r['result']['text'], 'from the parent')
            self.assertEqual(rt.request({'id': 9, 'op': 'ping'}), {'id': 9, 'ok': True, 'pong': True})

    def test_runtime_imports_little(self):
        # What this interpreter loads by itself (site, .pth files) is not the runtime's doing.
        import subprocess
        import sys
        bare = set(subprocess.run([sys.executable, '-I', '-c', 'import sys; print(" ".join(sys.modules))'],
                                  capture_output=True, text=True, env={}).stdout.split())
        with Runtime() as rt:
            r = rt.call('import sys\ndef handle_command(p):\n    return " ".join(sorted(sys.modules))\n')
            mods = set(r['result']['text'].split()) - bare
            for heavy in ('json', 're', 'enum', 'ast', 'asyncio', 'socket', 'traceback', 'signal', 'inspect',
                          'kbrt.lint', 'logging', 'threading', 'types', 'selectors'):
                self.assertNotIn(heavy, mods)

    def test_ptrace_is_denied_to_tenant_code(self):
        # kbrt/noptrace.py: the runtime's seccomp filter (same uid would otherwise be enough to attach).
        code = ('import ctypes, os\ndef handle_command(p):\n    libc = ctypes.CDLL(None, use_errno=True)\n'
                '    return f"{libc.ptrace(16, os.getppid(), None, None)}:{ctypes.get_errno()}"\n')
        with Runtime() as rt:
            self.assertEqual(rt.call(code)['result']['text'], '-1:1')

    def test_preload_imports_only_allowlisted_modules(self):
        with Runtime() as rt:
            r = rt.request({'id': 1, 'op': 'preload', 'modules': ['json', 'os', 'urllib.parse', 'no_such_mod_x']})
            self.assertEqual((r['ok'], r['loaded'], r['failed']), (True, ['json', 'urllib.parse'], ['os', 'no_such_mod_x']))
            r = rt.call('import sys\ndef handle_command(p):\n    return str("json" in sys.modules)\n')
            self.assertEqual(r['result']['text'], 'True')


if __name__ == '__main__':
    unittest.main()
