"""domaeka.db: tenant code's tables, over the runner's data socket.

The store's throwaway server (tests/test_store.py) stands in for the
runner: it records each request and answers as a test says. What the
runner and PostgreSQL enforce (the guard, tenants apart, quotas, the
timeout) is tested against the real runner in services/runner/test/tables.test.ts.
"""

import unittest

from tests.support import Runtime, params
from tests.test_store import FakeStore, env


class Db(unittest.TestCase):
    def setUp(self):
        self.store = FakeStore(self.answer)
        self.addCleanup(self.store.close)
        self.reply = {}

    def answer(self, req):
        return self.reply.get(req['op'], {'ok': True})

    def test_query_sends_sql_and_parameters_and_types_the_rows(self):
        self.reply['db.query'] = {'ok': True, 'columns': ['이름', '수량', '가격', '비율', '메모', '날', '때', '있음', '없음'],
                                  'types': ['text', 'int', 'numeric', 'float', 'json', 'date', 'timestamptz', 'bool', 'text'],
                                  'rows': [['사과', 10, '1200.50', '0.5', '{"a": [1]}', '2026-12-07', '2026-12-07 09:00:00+09', True, None]]}
        self.reply['db.execute'] = {'ok': True, 'rowCount': 3, 'command': 'UPDATE'}
        code = '''
import datetime, decimal
from domaeka import db

def handle_command(params):
    rows = db.query("select * from 재고 where 이름 = $1 and 수량 > $2", ["사과", 1])
    r = rows[0]
    n = db.execute("update 재고 set 수량 = $1, 메모 = $2, 날 = $3, 값 = $4", (5, {"k": "v"}, datetime.date(2026, 12, 7), decimal.Decimal("1.10")))
    return "%s %d %r %r %r %s %s %s %s %d" % (r["이름"], r["수량"], r["가격"], r["비율"], r["메모"], r["날"], r["때"].utcoffset(), r["있음"], r["없음"], n)
'''
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c1')
        self.assertEqual(r['result']['text'], "사과 10 Decimal('1200.50') 0.5 {'a': [1]} 2026-12-07 9:00:00 True None 3", r)
        q, e = self.store.request(), self.store.request()
        self.assertEqual(q, {'id': 1, 'call': 'c1', 'op': 'db.query', 'sql': 'select * from 재고 where 이름 = $1 and 수량 > $2', 'params': ['사과', 1]})
        self.assertEqual(e['op'], 'db.execute')
        self.assertEqual(e['params'], [5, '{"k":"v"}', '2026-12-07', '1.10'])

    def test_what_cannot_be_sent_is_refused_before_anything_is_sent(self):
        code = '''
from domaeka import db, InvalidParams

def handle_command(params):
    out = []
    for sql, p in [("", None), (5, None), ("select $1", {"a": 1}), ("select $1", [float("nan")]), ("select $1", [b"x"]), ("select 1", [0] * 101)]:
        try:
            db.query(sql, p)
        except InvalidParams as e:
            out.append(e.code)
    return " ".join(out)
'''
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
        self.assertEqual(r['result']['text'], ' '.join(['KB_ERR_DB_INVALID'] * 6), r)
        self.assertTrue(self.store.requests.empty())

    def test_the_runners_refusals_are_exceptions_of_their_own_and_quota_ends_the_run_in_korean(self):
        forbidden = '이 SQL은 쓸 수 없습니다: 시스템 카탈로그(pg_class)는 읽을 수 없습니다 / not allowed: system catalog pg_class is not accessible'
        self.reply['db.query'] = {'ok': False, 'error': {'code': 'KB_ERR_DB_FORBIDDEN', 'message': forbidden}}
        code = '''
from domaeka import db, Forbidden, DbError

def handle_command(params):
    try:
        db.query("select * from pg_class")
    except Forbidden as e:
        return "%s %s %s" % (e.code, isinstance(e, DbError), e.message[:15])
'''
        full = '저장 공간이 가득 찼습니다: 표는 모두 합쳐 5 MiB까지 저장할 수 있습니다. 이번 변경은 저장되지 않았습니다 / storage quota reached'
        self.reply['db.execute'] = {'ok': False, 'error': {'code': 'KB_ERR_STORAGE_QUOTA', 'message': full}}
        with Runtime(env=env(self.store.path)) as rt:
            r = rt.call(code, params(), callId='c')
            self.assertEqual(r['result']['text'], 'KB_ERR_DB_FORBIDDEN True 이 SQL은 쓸 수 없습니다', r)
            q = rt.call('from domaeka import db\n\ndef handle_command(params):\n    db.execute("insert into t values (1)")\n', params(), rid=2, callId='c2')
            self.assertFalse(q['ok'])
            self.assertEqual(q['error']['code'], 'KB_ERR_STORAGE_QUOTA')
            self.assertEqual(q['error']['message'], full)


if __name__ == '__main__':
    unittest.main()
