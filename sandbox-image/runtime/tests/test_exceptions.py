import unittest

from tests.support import Runtime


def call(code, **kw):
    with Runtime() as rt:
        return rt.call(code, **kw)


class Trimming(unittest.TestCase):
    def test_only_tenant_frames_and_the_innermost_line(self):
        code = ('import json\n'              # 1
                'def parse(s):\n'            # 2
                '    return json.loads(s)\n'  # 3
                'def handle_command(p):\n'   # 4
                '    x = 1\n'                # 5
                '    return parse("{bad")\n')  # 6
        r = call(code)
        e = r['error']
        self.assertEqual(e['code'], 'KB_ERR_USER_EXCEPTION')
        self.assertEqual(e['line'], 3)
        self.assertTrue(e['message'].startswith('json.decoder.JSONDecodeError: '), e['message'])
        tb = e['traceback']
        self.assertIn('File "<tenant>", line 6, in handle_command', tb)
        self.assertIn('File "<tenant>", line 3, in parse', tb)
        self.assertIn('    return json.loads(s)', tb)
        self.assertNotIn('json/decoder.py', tb)
        self.assertNotIn('kbrt', tb)
        self.assertNotIn('/opt/', tb)
        self.assertEqual([l for l in tb.splitlines() if l.startswith('  File')],
                         ['  File "<tenant>", line 6, in handle_command', '  File "<tenant>", line 3, in parse'])

    def test_plain_exception(self):
        r = call('def handle_command(p):\n    raise ValueError("잘못된 지역")\n')
        self.assertEqual(r['error']['message'], 'ValueError: 잘못된 지역')
        self.assertEqual(r['error']['line'], 2)
        self.assertFalse(r['ok'])
        self.assertIn('output', r)

    def test_output_before_the_error_is_kept(self):
        r = call('def handle_command(p):\n    print("before")\n    raise ValueError("x")\n')
        self.assertEqual((r['ok'], r['output'], r['outputTruncated']), (False, 'before\n', False))
        self.assertIsInstance(r['durationMs'], (int, float))

    def test_exiting_the_process_never_answers(self):
        for stmt in ('os._exit(0)', 'os.kill(os.getpid(), 9)'):
            with self.subTest(stmt):
                with Runtime() as rt:
                    rt.send({'id': 1, 'op': 'call', 'params': {},
                             'code': 'import os\ndef handle_command(p):\n    %s\n    return "no"\n' % stmt})
                    self.assertIsNone(rt.read())  # EOF: the runner reports KB_ERR_SANDBOX_CRASHED

    def test_custom_exception_class_and_broken_str(self):
        code = ('class Boom(Exception):\n'
                '    def __str__(self):\n'
                '        raise RuntimeError("no")\n'
                'def handle_command(p):\n'
                '    raise Boom()\n')
        r = call(code)
        self.assertEqual(r['error']['message'], 'Boom: <unprintable Boom>')

    def test_system_exit_and_friends_are_user_exceptions(self):
        with Runtime() as rt:
            for i, stmt in enumerate(['sys.exit()', 'sys.exit(3)', 'exit()', 'raise SystemExit("bye")',
                                      'raise KeyboardInterrupt', 'raise GeneratorExit']):
                with self.subTest(stmt):
                    r = rt.call('import sys\ndef handle_command(p):\n    %s\n' % stmt, codeVersion=str(i))
                    self.assertEqual(r['error']['code'], 'KB_ERR_USER_EXCEPTION', r)
                    self.assertEqual(r['error']['line'], 3)
            self.assertTrue(rt.call('def handle_command(p):\n    return "alive"\n', codeVersion='x')['ok'])

    def test_recursion_is_trimmed(self):
        r = call('def handle_command(p):\n    return handle_command(p)\n')
        e = r['error']
        self.assertTrue(e['message'].startswith('RecursionError'))
        frames = [l for l in e['traceback'].splitlines() if l.startswith('  File')]
        self.assertLessEqual(len(frames), 20)
        self.assertIn('frames) ...', e['traceback'])

    def test_memory_error(self):
        r = call('def handle_command(p):\n    raise MemoryError()\n')
        self.assertEqual(r['error']['code'], 'KB_ERR_MEMORY_LIMIT')

    def test_errors_while_loading(self):
        with Runtime() as rt:
            r = rt.request({'id': 1, 'op': 'load', 'code': 'x = 1\nraise RuntimeError("top")\n', 'codeVersion': 1})
            self.assertEqual((r['error']['code'], r['error']['line']), ('KB_ERR_USER_EXCEPTION', 2))
            r = rt.request({'id': 2, 'op': 'load', 'code': 'def handle_command(p)\n    pass\n'})
            self.assertEqual((r['error']['code'], r['error']['line']), ('KB_ERR_LINT', 1))
            self.assertIn('syntax error', r['error']['message'])
            r = rt.request({'id': 3, 'op': 'load', 'code': 'x = 1\n'})
            self.assertEqual(r['error']['code'], 'KB_ERR_LINT')
            self.assertIn('handle_command', r['error']['message'])
            r = rt.request({'id': 4, 'op': 'load', 'code': 'handle_command = 5\n'})
            self.assertEqual(r['error']['code'], 'KB_ERR_LINT')
            r = rt.request({'id': 5, 'op': 'load', 'code': 'a\0b'})
            self.assertEqual(r['error']['code'], 'KB_ERR_LINT')
            r = rt.request({'id': 6, 'op': 'load', 'code': 'while True: pass\n', 'timeoutMs': 200})
            self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT')


class Timeouts(unittest.TestCase):
    def test_spin_sleep_and_swallowed_exceptions_time_out(self):
        with Runtime() as rt:
            bodies = ['while True: pass',
                      'import time\n    time.sleep(100)',
                      'while True:\n        try:\n            sum(range(10**6))\n        except Exception:\n            pass']
            for i, body in enumerate(bodies):
                with self.subTest(body):
                    r = rt.call('def handle_command(p):\n    %s\n' % body, timeoutMs=250, codeVersion=str(i))
                    self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT')
                    self.assertIn('250 ms', r['error']['message'])
                    self.assertLess(r['durationMs'], 2000)
            self.assertEqual(rt.call('def handle_command(p):\n    return "next"\n', codeVersion='n',
                                     timeoutMs=250)['result']['text'], 'next')

    def test_timeout_covers_load_and_call_together(self):
        with Runtime() as rt:
            code = 'import time\ntime.sleep(0.2)\ndef handle_command(p):\n    time.sleep(0.2)\n    return "late"\n'
            r = rt.call(code, timeoutMs=300)
            self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT')
            self.assertIn('300 ms', r['error']['message'])


if __name__ == '__main__':
    unittest.main()
