import time
import unittest

from tests.support import Runtime


class Pipeline(unittest.TestCase):
    def test_queued_requests_run_in_order_and_one_past_its_deadline_is_not_run(self):
        code = ('import time\n'
                'n = 0\n'
                'def handle_command(p):\n'
                '    global n\n'
                '    n += 1\n'
                '    if p.get("slow"):\n'
                '        time.sleep(0.3)\n'
                '    return str(n)\n')
        with Runtime() as rt:
            now = time.time() * 1000
            # three requests written at once: the second's deadline passes while the first sleeps
            rt.send({'id': 1, 'op': 'call', 'code': code, 'codeVersion': 'v', 'params': {'slow': True}, 'deadline': now + 5000})
            rt.send({'id': 2, 'op': 'call', 'codeVersion': 'v', 'params': {}, 'deadline': now + 100})
            rt.send({'id': 3, 'op': 'call', 'codeVersion': 'v', 'params': {}, 'deadline': now + 5000})
            r1, r2, r3 = rt.read(), rt.read(), rt.read()
            self.assertEqual((r1['id'], r1['result']['text']), (1, '1'))
            self.assertEqual((r2['id'], r2['error']['code']), (2, 'KB_ERR_TIMEOUT'))
            self.assertIn('not run', r2['error']['message'])
            # the refused one never ran: the counter went 1 -> 2
            self.assertEqual((r3['id'], r3['result']['text']), (3, '2'))


if __name__ == '__main__':
    unittest.main()
