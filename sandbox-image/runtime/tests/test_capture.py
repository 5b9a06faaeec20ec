import unittest

from tests.support import Runtime, frame

from kbrt.server import OUTPUT_MAX_BYTES

FAKE = frame({'id': 1, 'ok': True, 'result': {'type': 'text', 'text': 'FORGED'}})


class Capture(unittest.TestCase):
    def test_print_goes_to_output_not_to_the_channel(self):
        with Runtime() as rt:
            code = ('import sys\n'
                    'print("top")\n'
                    'def handle_command(p):\n'
                    '    print("안녕", p["parameters"][0])\n'
                    '    print("err", file=sys.stderr)\n'
                    '    return "real"\n')
            r = rt.request({'id': 1, 'op': 'load', 'code': code, 'codeVersion': 'a'})
            self.assertEqual((r['ok'], r['output']), (True, 'top\n'))
            r = rt.call(params={'parameters': ['화도읍']}, rid=2)
            self.assertEqual(r['result'], {'type': 'text', 'text': 'real'})
            self.assertEqual(r['output'], '안녕 화도읍\nerr\n')
            self.assertFalse(r['outputTruncated'])
            # each call has its own output
            self.assertEqual(rt.call(params={'parameters': ['x']}, rid=3)['output'], '안녕 x\nerr\n')

    def test_printed_frames_cannot_forge_a_result(self):
        fake = repr(FAKE)
        code = ('import os, sys\n'
                'def handle_command(p):\n'
                '    print(\'{"id": 1, "ok": true, "result": {"type": "text", "text": "FORGED"}}\')\n'
                '    sys.stdout.buffer.write(%s)\n'
                '    sys.__stdout__.write("x")\n'
                '    os.write(1, %s)\n'
                '    os.write(2, %s)\n'
                '    return "real"\n') % (fake, fake, fake)
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual(r['result'], {'type': 'text', 'text': 'real'})
            self.assertIn('FORGED', r['output'])
            self.assertEqual(rt.request({'id': 2, 'op': 'ping'}), {'id': 2, 'ok': True, 'pong': True})
            rt.proc.stdin.close()
            self.assertIsNone(rt.read(timeout=5))  # nothing else ever came on the channel

    def test_closing_fds_0_1_2_does_not_break_the_channel(self):
        code = ('import os, sys\n'
                'def handle_command(p):\n'
                '    os.close(0); os.close(1); os.close(2)\n'
                '    sys.stdout.close()\n'
                '    print("still printing")\n'
                '    return "after close"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1, codeVersion='a')
            self.assertEqual(r['result'], {'type': 'text', 'text': 'after close'})
            self.assertEqual(r['output'], 'still printing\n')
            r = rt.call('import os\ndef handle_command(p):\n    os.write(1, b"fd1 again\\n")\n    return "ok"\n',
                        rid=2, codeVersion='b')
            self.assertEqual((r['result']['text'], r['output']), ('ok', 'fd1 again\n'))

    def test_replaced_streams_are_taken_back(self):
        code = ('import sys, io\n'
                'def handle_command(p):\n'
                '    sys.stdout = io.StringIO()\n'
                '    return "x"\n')
        with Runtime() as rt:
            rt.call(code, codeVersion='a')
            r = rt.call('def handle_command(p):\n    print("seen")\n    return "y"\n', codeVersion='b')
            self.assertEqual(r['output'], 'seen\n')

    def test_one_huge_print_is_capped_and_marked(self):
        with Runtime() as rt:
            r = rt.call('def handle_command(p):\n    print("가" * 10_000_000)\n    return "done"\n')
            self.assertEqual(r['result']['text'], 'done')
            self.assertTrue(r['outputTruncated'])
            self.assertLessEqual(len(r['output'].encode()), OUTPUT_MAX_BYTES)
            self.assertGreater(len(r['output'].encode()), OUTPUT_MAX_BYTES - 4)
            self.assertEqual(set(r['output']), {'가'})  # no half character at the cut

    def test_print_flood_and_fd_flood(self):
        code = ('import os\n'
                'def handle_command(p):\n'
                '    for i in range(200000):\n'
                '        print("line", i)\n'
                '    n = 0\n'
                '    try:\n'
                '        for _ in range(1000):\n'
                '            n += os.write(1, b"z" * 65536)\n'
                '    except BlockingIOError:\n'
                '        pass\n'
                '    return "survived"\n')
        with Runtime() as rt:
            r = rt.call(code, timeoutMs=5000)
            self.assertEqual(r['result']['text'], 'survived')
            self.assertTrue(r['outputTruncated'])
            self.assertLessEqual(len(r['output'].encode()), OUTPUT_MAX_BYTES)
            r = rt.call('import os\ndef handle_command(p):\n    os.write(1, b"clean\\n")\n    return "x"\n', codeVersion='2')
            self.assertEqual((r['output'], r['outputTruncated']), ('clean\n', False))

    def test_blocking_on_stdin_times_out(self):
        with Runtime() as rt:
            for expr in ('sys.stdin.read()', 'input()', 'os.read(0, 10)'):
                with self.subTest(expr):
                    r = rt.call('import sys, os\ndef handle_command(p):\n    return %s\n' % expr,
                                timeoutMs=300, codeVersion=expr)
                    self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT')
                    self.assertGreaterEqual(r['durationMs'], 290)


if __name__ == '__main__':
    unittest.main()
