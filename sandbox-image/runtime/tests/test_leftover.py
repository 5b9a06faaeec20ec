import unittest

from tests.support import Runtime


class Leftover(unittest.TestCase):
    """An answer says what tenant code left running after it (the runner recycles such a dedicated container)."""

    def test_a_call_that_leaves_nothing_running_says_nothing(self):
        code = ('import threading\n'
                'def handle_command(p):\n'
                '    t = threading.Thread(target=lambda: None)\n'
                '    t.start(); t.join()\n'
                '    return "ok"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual(r['result'], {'type': 'text', 'text': 'ok'})
            self.assertNotIn('leftover', r)

    def test_a_thread_still_running_after_the_answer_is_reported(self):
        code = ('import threading, time\n'
                'def handle_command(p):\n'
                '    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n'
                '    return "ok"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual(r['result'], {'type': 'text', 'text': 'ok'})
            self.assertEqual(r['leftover'], {'threads': 1})

    def test_a_child_still_running_after_the_answer_is_reported(self):
        code = ('import os, time\n'
                'def handle_command(p):\n'
                '    if os.fork() == 0:\n'
                '        time.sleep(5)\n'
                '        os._exit(0)\n'
                '    return "ok"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual(r['result'], {'type': 'text', 'text': 'ok'})
            self.assertEqual(r['leftover'], {'children': True})

    def test_a_module_that_starts_a_thread_when_loaded_is_reported_too(self):
        code = ('import threading, time\n'
                'threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n'
                'def handle_command(p):\n'
                '    return "ok"\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual(r['leftover'], {'threads': 1})


if __name__ == '__main__':
    unittest.main()
