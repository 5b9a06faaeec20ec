"""JSON for the protocol without importing `json`.

`import json` pulls in `re` and `enum` (about 1.3 MB of private memory per
container); the C accelerator `_json` that `json` itself uses needs neither.
Falls back to `json` where `_json` is missing or differs.
"""

try:
    import _json

    class _Ctx:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        memo = {}

        @staticmethod
        def parse_constant(name):
            raise ValueError('%s is not valid JSON' % name)

    _scan = _json.make_scanner(_Ctx())
    _enc_utf8 = _json.make_encoder(None, None, _json.encode_basestring, None, ':', ',', False, False, False)
    _enc_ascii = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ':', ',', False, False, False)
    _WS = ' \t\n\r'

    def loads(s):
        """Parse one JSON value from a str; ValueError when it is not exactly one."""
        n = len(s)
        i = 0
        while i < n and s[i] in _WS:
            i += 1
        try:
            value, end = _scan(s, i)
        except StopIteration:
            raise ValueError('invalid JSON at %d' % i) from None
        finally:
            _Ctx.memo.clear()
        while end < n and s[end] in _WS:
            end += 1
        if end != n:
            raise ValueError('extra data after JSON at %d' % end)
        return value

    def dumps(value, ascii=False):
        """Compact JSON text; NaN/Infinity refused; non-JSON types raise TypeError."""
        return ''.join((_enc_ascii if ascii else _enc_utf8)(value, 0))

    # Self-check: any mismatch with this interpreter's _json -> plain json.
    if loads(' {"a":[1,2.5,"\\u00e9",null,true]} ') != {'a': [1, 2.5, '\u00e9', None, True]} \
            or dumps({'a': ['é', 1]}) != '{"a":["é",1]}':
        raise ImportError('unexpected _json behaviour')
except (ImportError, AttributeError, TypeError):  # pragma: no cover - fallback
    import json as _std

    def loads(s):
        return _std.loads(s, parse_constant=_refuse)

    def _refuse(name):
        raise ValueError('%s is not valid JSON' % name)

    def dumps(value, ascii=False):
        return _std.dumps(value, ensure_ascii=ascii, separators=(',', ':'), allow_nan=False)


def encode(value):
    """UTF-8 bytes of the compact JSON of value. Lone surrogates (which UTF-8
    cannot carry) are written as \\u escapes instead of failing."""
    text = dumps(value)
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError:
        return dumps(value, ascii=True).encode('ascii')
