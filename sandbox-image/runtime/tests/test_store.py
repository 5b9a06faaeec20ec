"""domaeka.store: tenant code's key-value store, over the runner's data socket.

A throwaway store server here stands in for the runner's (services/runner,
"Store"): it speaks the framing (4-byte length + JSON), records every
request and answers from a dict, or as a test says. The runtime runs as in
the container (python3 -I -B run.py) with KB_DATA_SOCKET pointing at it.
What the runner itself enforces (calls in flight, budgets, quotas,
tenants) is tested against the real runner in services/runner/test/store.test.ts.
"""

import json
import os
import queue
import shutil
import socket
import struct
import tempfile
import threading
import unittest

from tests.support import Runtime, params


def _recv_exact(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class FakeStore:
    """A unix-socket store server; `answer(req)` returns the answer's fields (default: a dict store)."""

    def __init__(self, answer=None):
        self.dir = tempfile.mkdtemp(prefix='kb-store-')
        self.path = os.path.join(self.dir, 'data.sock')
        self.data = {}
        self.answer = answer or self.from_dict
        self.requests = queue.Queue()
        self.connections = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def from_dict(self, req):
        op, key = req['op'], req.get('key')
        if op == 'get':
            return {'ok': True, 'value': self.data.get(key)}
        if op == 'set':
            self.data[key] = req['value']
            return {'ok': True}
        if op == 'incr':
            n = json.loads(self.data.get(key, '0')) + req['by']
            self.data[key] = json.dumps(n)
            return {'ok': True, 'value': self.data[key]}
        if op == 'delete':
            return {'ok': True, 'deleted': self.data.pop(key, None) is not None}
        return {'ok': True, 'keys': sorted(k for k in self.data if k.startswith(req['prefix']))}

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        with conn:
            while True:
                head = _recv_exact(conn, 4)
                if head is None:
                    return
                body = _recv_exact(conn, struct.unpack('>I', head)[0])
                req = json.loads(body.decode('utf-8'))
                self.requests.put(req)
                out = self.answer(req)
                if out is None:  # no answer: hold the request
                    continue
                if out == 'hang up':  # close the connection unanswered
                    return
                out = dict(out, id=req['id'])
                payload = json.dumps(out).encode('utf-8')
                conn.sendall(struct.pack('>I', len(payload)) + payload)

    def request(self):
        return self.requests.get(timeout=10)

    def close(self):
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def env(path=None):
    e = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
    if path is not None:
        e['KB_DATA_SOCKET'] = path
    return e


POINTS = '''
from domaeka import store

def handle_command(params):
    n = store.incr("포인트:" + params["sender"])
    return f"포인트: {n}"
'''


class Store(unittest.TestCase):
    def setUp(self):
        self.store = FakeStore()
        self.addCleanup(self.store.close)

    def test_each_call_names_its_call_and_gets_what_the_runner_answers(self):
        with Runtime(env=env(self.store.path)) as rt:
            for n in (1, 2, 3):
                r = rt.call(POINTS, params(), rid=n, callId='call-%d' % n)
                self.assertEqual(r['result']['text'], '포인트: %d' % n, r)
                req = self.store.request()
                self.assertEqual(req, {'id': n, 'call': 'call-%d' % n, 'op': 'incr', 'key': '포인트:홍길동', 'by': 1})
        # One connection for all three calls (kept, not one per request).
        self.assertEqual(self.store.connections, 1)

    def test_values_travel_as_compact_json_text_and_come_back_as_they_were(self):
        code = '''
from domaeka import store

def handle_command(params):
    store.set("메뉴", {"이름": "아메리카노", "가격": 4500, "옵션": ["샷", None, True], "할인": 0.5}, ttl=60)
    got = store.get("메뉴")
    missing = store.get("없음", "기본")
    gone = store.delete("메뉴")
    return f"{got['이름']} {got['가격']} {got['옵션']} {got['할인']} {missing} {gone} {store.keys('메')}"
'''
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
            self.assertEqual(r['result']['text'], "아메리카노 4500 ['샷', None, True] 0.5 기본 True []", r)
        reqs = [self.store.request() for _ in range(5)]
        self.assertEqual(reqs[0]['value'], '{"이름":"아메리카노","가격":4500,"옵션":["샷",null,true],"할인":0.5}')
        self.assertEqual(reqs[0]['ttl'], 60)
        self.assertEqual([q['op'] for q in reqs], ['set', 'get', 'get', 'delete', 'keys'])
        self.assertEqual(reqs[4]['prefix'], '메')

    def test_what_cannot_be_stored_is_refused_before_anything_is_sent(self):
        code = '''
from domaeka import store, InvalidKey, InvalidValue, ValueTooLarge, InvalidArgument, StoreError

def handle_command(params):
    out = []
    for key, value, kw in [("", 1, {}), ("k" * 201, 1, {}), (5, 1, {}), ("a\\0b", 1, {}),
                           ("k", {1, 2}, {}), ("k", float("nan"), {}), ("k", b"x", {}),
                           ("k", "x" * 70000, {}), ("k", 1, {"ttl": 0}), ("k", 1, {"ttl": "5"}), ("k", 1, {"ttl": True})]:
        try:
            store.set(key, value, **kw)
            out.append("stored")
        except StoreError as e:
            out.append(type(e).__name__ + ("(ValueError)" if isinstance(e, ValueError) else ""))
    try:
        store.incr("k", by="1")
    except InvalidArgument as e:
        out.append("incr:" + e.code)
    return " ".join(out)
'''
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
        self.assertEqual(r['result']['text'],
                         'InvalidKey(ValueError) InvalidKey(ValueError) InvalidKey(ValueError) InvalidKey(ValueError) '
                         'InvalidValue(ValueError) InvalidValue(ValueError) InvalidValue(ValueError) ValueTooLarge '
                         'InvalidArgument(ValueError) InvalidArgument(ValueError) InvalidArgument(ValueError) '
                         'incr:KB_ERR_STORE_INVALID', r)
        self.assertTrue(self.store.requests.empty())
        self.assertEqual(self.store.connections, 0)

    def test_an_uncaught_quota_error_ends_the_run_as_KB_ERR_STORAGE_QUOTA_in_korean(self):
        full = '저장 공간이 가득 찼습니다: 키는 1,000개까지 저장할 수 있습니다 / storage quota reached: at most 1000 keys'
        self.store.answer = lambda req: {'ok': False, 'error': {'code': 'KB_ERR_STORAGE_QUOTA', 'message': full}}
        code = 'from domaeka import store\n\ndef handle_command(params):\n    store.set("새 키", 1)\n    return "저장함"\n'
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
            self.assertFalse(r['ok'])
            self.assertEqual(r['error']['code'], 'KB_ERR_STORAGE_QUOTA')
            self.assertEqual(r['error']['message'], full)
            self.assertEqual(r['error']['line'], 4)
            self.assertIn('domaeka.QuotaExceeded', r['error']['traceback'])
            # Caught, it is the code's to handle like any exception.
            caught = ('from domaeka import store, QuotaExceeded\n\ndef handle_command(params):\n'
                      '    try:\n        store.set("새 키", 1)\n    except QuotaExceeded as e:\n        return "가득: " + e.code\n')
            self.assertEqual(rt.call(caught, params(), rid=2, callId='c2')['result']['text'], '가득: KB_ERR_STORAGE_QUOTA')

    def test_the_runners_other_refusals_are_exceptions_of_their_own(self):
        answers = {'no': ('KB_ERR_STORE_NO_CALL', 'NotInCall'), 'budget': ('KB_ERR_STORE_BUDGET', 'TooManyCalls'),
                   'nan': ('KB_ERR_STORE_NOT_A_NUMBER', 'NotANumber'), 'big': ('KB_ERR_STORE_VALUE_TOO_LARGE', 'ValueTooLarge'),
                   'down': ('KB_ERR_STORE_UNAVAILABLE', 'StoreUnavailable'), 'bad': ('KB_ERR_STORE_INVALID', 'InvalidArgument'),
                   'odd': ('KB_ERR_SOMETHING_NEW', 'StoreError')}
        self.store.answer = lambda req: {'ok': False, 'error': {'code': answers[req['key']][0], 'message': '메시지 / message'}}
        code = ('from domaeka import store, StoreError\n\ndef handle_command(params):\n    out = []\n'
                '    for k in %r:\n        try:\n            store.get(k)\n        except StoreError as e:\n'
                '            out.append(type(e).__name__ + ":" + str(e))\n    return " ".join(out)\n' % list(answers))
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
        self.assertEqual(r['result']['text'], ' '.join('%s:메시지 / message' % v[1] for v in answers.values()), r)
        uncaught = 'from domaeka import store\n\ndef handle_command(params):\n    return store.incr("nan")\n'
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(uncaught, params(), callId='c')
        self.assertEqual(r['error']['code'], 'KB_ERR_USER_EXCEPTION')
        self.assertEqual(r['error']['message'], 'domaeka.NotANumber: 메시지 / message')

    def test_the_socket_path_leaves_the_environment_and_without_it_the_store_says_so(self):
        code = ('import os\nfrom domaeka import store, StoreUnavailable\n\ndef handle_command(params):\n'
                '    try:\n        store.get("k")\n        got = "answered"\n    except StoreUnavailable as e:\n        got = str(e)\n'
                '    return str("KB_DATA_SOCKET" in os.environ) + " " + got\n')
        with Runtime(env=env(self.store.path)) as rt:
            self.assertEqual(rt.call(code, params(), callId='c')['result']['text'], 'False answered')
        with Runtime(env=env()) as rt:
            self.assertEqual(rt.call(code, params(), callId='c')['result']['text'],
                             'False 이 환경에는 저장소가 없습니다 / no store in this environment')

    def test_a_request_cut_short_by_the_timeout_never_leaks_its_answer_into_the_next_call(self):
        held = []
        def answer(req):
            if req['key'] == 'slow' and not held:
                held.append(req)
                return None  # never answered on that connection
            return self.store.from_dict(req)
        self.store.answer = answer
        self.store.data['fast'] = '"빠름"'
        code = ('from domaeka import store\n\ndef handle_command(params):\n'
                '    return str(store.get(params["parameters"][0]))\n')
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params('slow'), rid=1, callId='c1', timeoutMs=300)
            self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT', r)
            r = rt.call(code, params('fast'), rid=2, callId='c2')
            self.assertEqual(r['result']['text'], '빠름', r)
        # The cut request's connection was dropped; the next call opened its own.
        self.assertEqual(self.store.connections, 2)

    def test_a_store_that_hangs_up_is_unavailable_then_reconnected(self):
        state = {'n': 0}
        def answer(req):
            state['n'] += 1
            if state['n'] == 1:
                return 'hang up'
            return self.store.from_dict(req)
        self.store.answer = answer
        code = ('from domaeka import store, StoreUnavailable\n\ndef handle_command(params):\n'
                '    try:\n        store.set("k", 1)\n    except StoreUnavailable as e:\n        first = type(e).__name__\n'
                '    store.set("k", 2)\n    return first + " " + str(store.get("k"))\n')
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
        self.assertEqual(r['result']['text'], 'StoreUnavailable 2', r)


if __name__ == '__main__':
    unittest.main()
