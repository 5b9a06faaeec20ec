"""키-값 저장소 / the key-value store: `from domaeka import store`.

    store.set("재고:사과", 10)                  # JSON values: numbers, text, lists, dicts, True/False/None
    store.get("재고:사과")                      # -> 10 (None, or the default, when missing)
    store.incr("포인트:" + params["sender"])    # atomic; -> the new number (a missing key counts from 0)
    store.set("인증번호", "1234", ttl=300)      # gone after 300 seconds
    store.delete("인증번호")                    # -> True when it was there
    store.keys("재고:")                         # -> ["재고:배", "재고:사과"], sorted, at most 1,000

Kept by the platform per tenant: every call, every container and every
command of the tenant sees the same keys; no other tenant sees them.
Keys are strings of 1 to 200 characters; a value is at most 64 KiB of
JSON. The plan limits how many keys and bytes are kept (free: 1,000 keys,
1 MiB); a write beyond raises QuotaExceeded and does not happen. Usable
while a call runs (not from a thread left running after it), at most
1,000 store calls per run. Errors: domaeka.StoreError and its kinds
(domaeka/errors.py), messages Korean first.
"""

import json
import math

from . import _link
from .errors import InvalidArgument, InvalidKey, InvalidValue, ValueTooLarge

KEY_MAX_CHARS = 200
VALUE_MAX_BYTES = 64 * 1024
KEYS_MAX = 1000
TTL_MAX_S = 10 * 365 * 24 * 3600
# incr's step travels as a JSON number the runner reads exactly up to 2^53 - 1.
_BY_MAX = 2 ** 53 - 1


def _type_name(v):
    return type(v).__name__


def _text(v, what_ko, what_en, minimum, cls):
    if not isinstance(v, str):
        raise cls('%s는 문자열이어야 합니다 (%s) / %s must be a str, not %s' % (what_ko, _type_name(v), what_en, _type_name(v)))
    v = str.__str__(v)
    if not (minimum <= len(v) <= KEY_MAX_CHARS):
        raise cls('%s는 %d~%d자여야 합니다 / %s must be %d to %d characters'
                  % (what_ko, minimum, KEY_MAX_CHARS, what_en, minimum, KEY_MAX_CHARS))
    if '\0' in v:
        raise cls('%s에 NUL 문자를 쓸 수 없습니다 / %s must not contain NUL' % (what_ko, what_en))
    try:
        v.encode('utf-8')
    except UnicodeEncodeError:
        raise cls('%s에 짝이 없는 서로게이트 문자가 있습니다 / %s has a lone surrogate' % (what_ko, what_en)) from None
    return v


def _key(key):
    return _text(key, '키', 'key', 1, InvalidKey)


def _refuse(v):
    raise TypeError(_type_name(v))


def _encode(value):
    """The value's compact JSON text, checked the way the runner and PostgreSQL will."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(',', ':'), allow_nan=False, default=_refuse)
    except TypeError as e:
        raise InvalidValue('JSON으로 저장할 수 없는 값입니다 (%s) / not storable as JSON: %s' % (e, e)) from None
    except ValueError as e:  # NaN/Infinity, a cycle
        raise InvalidValue('JSON으로 저장할 수 없는 값입니다 (%s) / not storable as JSON: %s' % (e, e)) from None
    except RecursionError:
        raise InvalidValue('값이 너무 깊게 중첩되었습니다 / the value is nested too deeply') from None
    try:
        size = len(text.encode('utf-8'))
    except UnicodeEncodeError:
        raise InvalidValue('값에 짝이 없는 서로게이트 문자가 있습니다 / the value has a lone surrogate') from None
    if size > VALUE_MAX_BYTES:
        raise ValueTooLarge('값이 너무 큽니다: 하나에 64 KiB까지 저장할 수 있습니다 (%d바이트) / value too large: at most 64 KiB each (%d bytes)'
                            % (size, size))
    return text


def _decode(text):
    return json.loads(text)


def get(key, default=None):
    """The value stored under key, or default when there is none (or it expired)."""
    answer = _link.link.request('get', {'key': _key(key)})
    text = answer.get('value')
    return default if text is None else _decode(text)


def set(key, value, ttl=None):  # noqa: A001 - store.set is the API
    """Stores value (JSON) under key, replacing what was there; with ttl (seconds) it expires."""
    fields = {'key': _key(key), 'value': _encode(value)}
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not (0 < ttl <= TTL_MAX_S):
            raise InvalidArgument('ttl은 0보다 크고 %d초 이하인 숫자(초)여야 합니다 / ttl must be seconds in (0, %d]'
                                  % (TTL_MAX_S, TTL_MAX_S))
        fields['ttl'] = ttl
    _link.link.request('set', fields)


def incr(key, by=1):
    """Adds by to the number under key (a missing key counts from 0) at once, whoever else adds; the new number."""
    if isinstance(by, bool) or not isinstance(by, (int, float)) or not math.isfinite(by) or abs(by) > _BY_MAX:
        raise InvalidArgument('by는 숫자여야 합니다 (2^53 이내) / by must be a finite number within 2^53')
    answer = _link.link.request('incr', {'key': _key(key), 'by': by})
    return _decode(answer['value'])


def delete(key):
    """Removes key; True when it was there."""
    return _link.link.request('delete', {'key': _key(key)}).get('deleted') is True


def keys(prefix=''):
    """The keys that start with prefix, sorted (by their UTF-8 bytes), at most 1,000."""
    answer = _link.link.request('keys', {'prefix': _text(prefix, '접두어', 'prefix', 0, InvalidArgument)})
    found = answer.get('keys')
    return list(found) if type(found) is list else []
