import os
import time
import unittest

from tests.support import Runtime


def zombies_of(pid):
    """Zombie children of `pid` (from /proc)."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if fields[0] == 'Z' and int(fields[1]) == pid:
            found.append(int(entry))
    return found


class Children(unittest.TestCase):
    def test_exited_children_of_tenant_code_are_reaped_after_the_call(self):
        code = ('import os\n'
                'def handle_command(p):\n'
                '    kids = []\n'
                '    for _ in range(5):\n'
                '        pid = os.fork()\n'
                '        if pid == 0:\n'
                '            os._exit(0)\n'
                '        kids.append(pid)\n'
                '    return str(len(kids))\n')
        with Runtime() as rt:
            r = rt.call(code, rid=1)
            self.assertEqual(r['result'], {'type': 'text', 'text': '5'})
            # Every request reaps first: once the children have exited, the next request leaves no zombie.
            # (A child may still be on its way out at the first ping: a few pings, 50 ms apart.)
            left = None
            for rid in range(2, 42):
                self.assertEqual(rt.request({'id': rid, 'op': 'ping'})['pong'], True)
                left = zombies_of(rt.ready["worker"])
                if not left:
                    break
                time.sleep(0.05)
            self.assertEqual(left, [])


if __name__ == '__main__':
    unittest.main()
