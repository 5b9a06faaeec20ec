"""테넌트의 표 / the tenant's own tables: `from domaeka import db`.

    db.execute("create table if not exists 재고 (이름 text primary key, 수량 int not null default 0)")
    db.execute("insert into 재고 (이름, 수량) values ($1, $2) "
               "on conflict (이름) do update set 수량 = 재고.수량 + excluded.수량", ["사과", 10])   # -> 1
    db.query("select 이름, 수량 from 재고 where 이름 = $1", ["사과"])    # -> [{"이름": "사과", "수량": 10}]

SQL runs on the tenant's own PostgreSQL schema (no other tenant's data is
reachable). Values go as parameters ($1, $2, ... with params a list),
never formatted into the SQL text. One statement per call: SELECT, INSERT,
UPDATE, DELETE, CREATE/ALTER/DROP TABLE, CREATE INDEX, TRUNCATE; the
catalogs, other schemas, SET, COPY and functions outside an allowlist are
refused (Forbidden). Times are in KST (`now()`). The plan limits a
statement's time (free 1 s), the rows one query returns (free 500: add a
LIMIT) and the tables' total size (free 5 MiB: a write beyond raises
QuotaExceeded and does not happen). Values come back as int, float,
Decimal (numeric), bool, str, date, datetime, and parsed JSON (json/jsonb).
Errors: domaeka.DbError and its kinds (domaeka/errors.py), Korean first.
"""

import datetime
import decimal
import json
import math

from . import _link
from .errors import InvalidParams

PARAMS_MAX = 100
# A JSON number the runner reads exactly; beyond, an int travels as its digits (PostgreSQL casts them).
_INT_EXACT = 2 ** 53 - 1


def _param(v):
    if v is None or isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        return int(v) if abs(v) <= _INT_EXACT else str(int(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InvalidParams('params에 NaN이나 무한대를 쓸 수 없습니다 / params must not hold NaN or infinity')
        return float(v)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (dict, list)):
        try:
            return json.dumps(v, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidParams('JSON으로 보낼 수 없는 값입니다 (%s) / not JSON: %s' % (e, e)) from None
    raise InvalidParams('params에 쓸 수 없는 값입니다 (%s) / params cannot hold a %s' % (type(v).__name__, type(v).__name__))


def _request(op, sql, params):
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidParams('sql은 문자열이어야 합니다 / sql must be a non-empty str')
    if params is None:
        params = []
    elif isinstance(params, tuple):
        params = list(params)
    if not isinstance(params, list):
        raise InvalidParams('params는 목록이어야 합니다 ($1, $2 ... 순서대로) / params must be a list ($1, $2, ... in order), not %s'
                            % type(params).__name__)
    if len(params) > PARAMS_MAX:
        raise InvalidParams('params는 %d개까지 쓸 수 있습니다 / at most %d params' % (PARAMS_MAX, PARAMS_MAX))
    return _link.link.request(op, {'sql': str.__str__(sql), 'params': [_param(p) for p in params]})


def _value(v, t):
    if v is None or type(v) is not str:
        return v
    try:
        if t == 'int':
            return int(v)
        if t == 'float':
            return float(v)
        if t == 'numeric':
            return decimal.Decimal(v)
        if t == 'json':
            return json.loads(v)
        if t == 'date':
            return datetime.date.fromisoformat(v)
        if t in ('timestamp', 'timestamptz'):
            return datetime.datetime.fromisoformat(v)
    except (ValueError, decimal.InvalidOperation):
        return v  # infinity, a BC date...: as PostgreSQL wrote it
    return v


def query(sql, params=None):
    """The rows of one SQL statement, as a list of dicts (column -> value); at most the plan's rows."""
    answer = _request('db.query', sql, params)
    columns = answer.get('columns') or []
    types = answer.get('types') or []
    rows = answer.get('rows') or []
    return [{c: _value(v, t) for c, t, v in zip(columns, types, row)} for row in rows]


def execute(sql, params=None):
    """Runs one SQL statement; the number of rows it inserted, updated or deleted."""
    n = _request('db.execute', sql, params).get('rowCount')
    return n if type(n) is int else 0
