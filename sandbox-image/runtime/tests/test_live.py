import time
import unittest

from tests.support import Runtime


class LiveOutput(unittest.TestCase):
    def test_a_streaming_call_sends_output_as_it_is_printed_then_the_response(self):
        code = ('import time\n'
                'def handle_command(p):\n'
                '    print("첫 줄")\n'
                '    time.sleep(0.4)\n'
                '    print("둘째 줄")\n'
                '    return "끝"\n')
        with Runtime() as rt:
            rt.send({'id': 7, 'op': 'call', 'code': code, 'params': {}, 'stream': True})
            t0 = time.monotonic()
            first = rt.read()
            early = time.monotonic() - t0
            self.assertEqual(first, {'id': 7, 'event': 'output', 'data': '첫 줄\n'})
            # it arrived while the call still slept
            self.assertLess(early, 0.35)
            frames = []
            while True:
                f = rt.read()
                frames.append(f)
                if 'event' not in f:
                    break
            self.assertEqual([f['data'] for f in frames[:-1]], ['둘째 줄\n'])
            resp = frames[-1]
            self.assertEqual(resp['result'], {'type': 'text', 'text': '끝'})
            # the response's output stays the complete record
            self.assertEqual(resp['output'], '첫 줄\n둘째 줄\n')

    def test_no_event_frames_without_stream_nor_after_the_response(self):
        code = ('import threading, time\n'
                'def late():\n'
                '    time.sleep(0.2)\n'
                '    print("late")\n'
                'def handle_command(p):\n'
                '    print("now")\n'
                '    threading.Thread(target=late, daemon=True).start()\n'
                '    return "ok"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual((r['id'], r['output']), (1, 'now\n'))
            r = rt.call(rid=2, stream=True)
            self.assertEqual(r, {'id': 2, 'event': 'output', 'data': 'now\n'})
            resp = rt.read()
            self.assertEqual(resp['id'], 2)
            self.assertIn('result', resp)
            time.sleep(0.4)
            # the thread's late print reaches no frame: the next thing on the channel is the ping's answer
            self.assertEqual(rt.request({'id': 3, 'op': 'ping'}), {'id': 3, 'ok': True, 'pong': True})

    def test_streamed_output_stops_at_the_cap(self):
        code = ('def handle_command(p):\n'
                '    for i in range(5000):\n'
                '        print("x" * 100)\n'
                '    return "ok"\n')
        with Runtime() as rt:
            rt.send({'id': 1, 'op': 'call', 'code': code, 'params': {}, 'stream': True})
            streamed = 0
            while True:
                f = rt.read()
                if 'event' not in f:
                    break
                streamed += len(f['data'].encode('utf-8'))
            self.assertTrue(f['outputTruncated'])
            self.assertLessEqual(streamed, 64 * 1024)
            self.assertGreater(streamed, 32 * 1024)


if __name__ == '__main__':
    unittest.main()
