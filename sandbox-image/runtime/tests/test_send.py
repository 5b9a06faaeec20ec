"""domaeka.send: messages to the tenant's rooms, carried on the call's answer (`sends`) only when the call ended well."""

import unittest

from tests.support import Runtime

SENDER = '''
from domaeka import send

def handle_command(params):
    for room in params.get("rooms", []):
        send(room, "알림: " + room)
    if params.get("fail"):
        raise ValueError("실패")
    return "보냈어요"
'''


class Send(unittest.TestCase):
    def setUp(self):
        self.rt = Runtime()

    def tearDown(self):
        self.rt.close()

    def test_queued_messages_ride_on_a_good_answer_in_order(self):
        r = self.rt.call(SENDER, {'rooms': ['공지방', '직원방']}, codeVersion='v1')
        self.assertTrue(r['ok'], r)
        self.assertEqual(r['result']['text'], '보냈어요')
        self.assertEqual(r['sends'], [{'room': '공지방', 'text': '알림: 공지방'}, {'room': '직원방', 'text': '알림: 직원방'}])
        # The next call starts empty: nothing is sent twice.
        again = self.rt.call(params={'rooms': []}, codeVersion='v1', rid=2)
        self.assertTrue(again['ok'], again)
        self.assertNotIn('sends', again)

    def test_a_failed_call_sends_nothing(self):
        r = self.rt.call(SENDER, {'rooms': ['공지방'], 'fail': True}, codeVersion='v1')
        self.assertFalse(r['ok'])
        self.assertEqual(r['error']['code'], 'KB_ERR_USER_EXCEPTION')
        self.assertNotIn('sends', r)

    def test_refusals_are_named_and_korean(self):
        code = '''
from domaeka import send, InvalidMessage, TooManySends

def handle_command(params):
    out = []
    for room, text in [("", "x"), ("방", ""), ("방", 5), ("방" * 101, "x"), ("방", "a\\0b")]:
        try:
            send(room, text)
            out.append("sent")
        except InvalidMessage as e:
            out.append(str(e).split(" / ")[0])
    for i in range(11):
        try:
            send("방", str(i))
        except TooManySends as e:
            out.append(str(e).split(" / ")[0])
    return "|".join(out)
'''
        r = self.rt.call(code, {}, codeVersion='v1')
        self.assertTrue(r['ok'], r)
        parts = r['result']['text'].split('|')
        self.assertEqual(len(parts), 6)
        self.assertTrue(all('방 이름' in p or '메시지' in p for p in parts[:5]), parts)
        self.assertIn('10개까지', parts[5])
        self.assertEqual(len(r['sends']), 10)

    def test_outside_a_call_it_is_refused(self):
        # A thread left running after its call's answer finds the outbox closed (the module's own state, in this process).
        from domaeka import NotInCall, _outbox
        _outbox.begin_call()
        _outbox.send('방', '안에서')
        self.assertEqual(_outbox.end_call(), [{'room': '방', 'text': '안에서'}])
        with self.assertRaises(NotInCall) as c:
            _outbox.send('방', '밖에서')
        self.assertIn('실행되는 동안에만', str(c.exception))
        self.assertEqual(_outbox.end_call(), [])


if __name__ == '__main__':
    unittest.main()
