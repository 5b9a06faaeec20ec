"""Normalising what handle_command returned.

Accepted:  a str                         -> {type:'text', text}
           {text, type?, buttons?, ...}  -> the same, checked
           the seed's response form {success, response:{text,type,buttons}, error}
Anything else (None, set, bytes, objects, NaN, lone surrogates, nesting
deeper than MAX_DEPTH, non-str keys) is KB_ERR_INVALID_RESULT; a text over
TEXT_MAX_BYTES or a result over RESULT_MAX_BYTES is KB_ERR_OUTPUT_LIMIT.

The whole returned value must be plain JSON, even keys the platform ignores:
what a command returns is a REST answer.
"""

TEXT_MAX_BYTES = 64 * 1024
RESULT_MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_BUTTONS = 20
_INT_BITS = 63
_INF = float('inf')


class ResultError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


def _invalid(ko, en):
    return ResultError('KB_ERR_INVALID_RESULT', '결과 형식이 올바르지 않습니다: %s / invalid result: %s' % (ko, en))


def _too_big(ko, en):
    return ResultError('KB_ERR_OUTPUT_LIMIT', '결과가 너무 큽니다: %s / result too large: %s' % (ko, en))


def _type_name(v):
    name = type.__dict__['__name__'].__get__(type(v))
    return name if type(name) is str else 'object'


def plain(value, where='result'):
    """A copy of value made only of dict/list/str/int/float/bool/None
    (exact types; str/dict/list/tuple subclasses are copied to their base
    type), with a running byte estimate capped at RESULT_MAX_BYTES."""
    budget = [RESULT_MAX_BYTES]

    def spend(n, path):
        budget[0] -= n
        if budget[0] < 0:
            raise _too_big('%s에서 %d바이트를 넘었습니다' % (path, RESULT_MAX_BYTES),
                           'over %d bytes at %s' % (RESULT_MAX_BYTES, path))

    def conv(v, depth, path):
        if depth > MAX_DEPTH:
            raise _invalid('%s: %d단계보다 깊게 중첩되었습니다' % (path, MAX_DEPTH),
                           '%s is nested deeper than %d levels' % (path, MAX_DEPTH))
        if v is None or v is True or v is False:
            spend(5, path)
            return v
        # type(v), never isinstance(): an object can lie about __class__.
        t = type(v)
        if issubclass(t, str):
            s = str.__str__(v)
            try:
                n = len(s.encode('utf-8'))
            except UnicodeEncodeError:
                raise _invalid('%s에 짝이 없는 서로게이트 문자가 있습니다' % path,
                               '%s contains a lone surrogate (not valid UTF-8)' % path) from None
            spend(n + 2, path)
            return s
        if issubclass(t, int):
            i = int.__index__(v)
            if i.bit_length() > _INT_BITS:
                raise _invalid('%s: 정수가 너무 큽니다' % path, '%s: integer out of range' % path)
            spend(20, path)
            return i
        if issubclass(t, float):
            f = float.__float__(v)
            if f != f or f in (_INF, -_INF):
                raise _invalid('%s: NaN/Infinity는 JSON이 아닙니다' % path, '%s: NaN/Infinity is not JSON' % path)
            spend(24, path)
            return f
        if issubclass(t, dict):
            out = {}
            spend(2, path)
            for k, item in dict.items(v):
                if not issubclass(type(k), str):
                    raise _invalid('%s: 키는 문자열이어야 합니다 (%s)' % (path, _type_name(k)),
                                   '%s: keys must be strings, not %s' % (path, _type_name(k)))
                k = conv(k, depth + 1, path)
                out[k] = conv(item, depth + 1, '%s.%s' % (path, k[:40]))
            return out
        if issubclass(t, (list, tuple)):
            spend(2, path)
            items = list.__iter__(v) if issubclass(t, list) else tuple.__iter__(v)
            return [conv(item, depth + 1, '%s[%d]' % (path, i)) for i, item in enumerate(items)]
        name = _type_name(v)
        raise _invalid('%s: %s 값은 JSON으로 보낼 수 없습니다' % (path, name),
                       '%s: a %s cannot be sent as JSON' % (path, name))

    return conv(value, 0, where)


def _text_of(v, path):
    if v is None:
        return ''
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return repr(v) if isinstance(v, float) else str(v)
    raise _invalid('%s는 문자열이어야 합니다' % path, '%s must be a string' % path)


def _check_text(text, path):
    if len(text) > TEXT_MAX_BYTES or len(text.encode('utf-8')) > TEXT_MAX_BYTES:
        raise _too_big('%s가 %d바이트를 넘습니다' % (path, TEXT_MAX_BYTES),
                       '%s is over %d bytes' % (path, TEXT_MAX_BYTES))


def _reply(inner, path):
    """{text, type?, buttons?, url?, image_base64?, format?} -> the normal form."""
    text = _text_of(inner.get('text'), path + '.text')
    _check_text(text, path + '.text')
    kind = inner.get('type')
    if kind is None or kind == '':
        kind = 'text'
    if kind not in ('text', 'image'):
        raise _invalid("%s.type은 'text' 또는 'image'여야 합니다" % path, "%s.type must be 'text' or 'image'" % path)
    out = {'type': kind, 'text': text}
    buttons = inner.get('buttons')
    if buttons is not None:
        if not isinstance(buttons, list):
            raise _invalid('%s.buttons는 {label, url} 목록이어야 합니다' % path,
                           '%s.buttons must be a list of {label, url}' % path)
        norm = []
        for i, b in enumerate(buttons[:MAX_BUTTONS]):
            bp = '%s.buttons[%d]' % (path, i)
            if not isinstance(b, dict):
                raise _invalid('%s는 {label, url}이어야 합니다' % bp, '%s must be {label, url}' % bp)
            label = _text_of(b.get('label'), bp + '.label')
            url = _text_of(b.get('url'), bp + '.url')
            if url:
                norm.append({'label': label, 'url': url})
        if norm:
            out['buttons'] = norm
    if kind == 'image':
        url = _text_of(inner.get('url'), path + '.url')
        data = _text_of(inner.get('image_base64'), path + '.image_base64')
        if not url and not data:
            raise _invalid('이미지 결과에는 url이나 image_base64가 필요합니다',
                           'an image result needs url or image_base64')
        if data:
            out['image_base64'] = data
            fmt = _text_of(inner.get('format'), path + '.format')
            if fmt:
                out['format'] = fmt
        else:
            out['url'] = url
    return out


class Failed(Exception):
    """The seed's form with success: false (the tenant's own failure)."""

    def __init__(self, text, error):
        Exception.__init__(self, error)
        self.text = text
        self.error = error


def normalise(value):
    """The reply dict, or raises ResultError / Failed."""
    if value is None:
        raise _invalid('handle_command가 아무것도 돌려주지 않았습니다 (None). return 문을 확인하세요',
                       'handle_command returned None; did you forget return?')
    if issubclass(type(value), str):
        v = plain(value)
        _check_text(v, 'result')
        return {'type': 'text', 'text': v}
    if not issubclass(type(value), dict):
        name = _type_name(value)
        raise _invalid('%s 값은 돌려줄 수 없습니다. 문자열이나 {"text": ...}를 돌려주세요' % name,
                       'a %s cannot be returned; return a str or {"text": ...}' % name)
    v = plain(value)
    if 'response' in v or 'success' in v:
        resp = v.get('response')
        if resp is None:
            inner = v
        elif isinstance(resp, str):
            inner = {'text': resp}
        elif isinstance(resp, dict):
            inner = resp
        else:
            raise _invalid('response는 객체여야 합니다', 'response must be an object')
        if v.get('success') is False:
            text = _text_of(inner.get('text'), 'response.text')
            _check_text(text, 'response.text')
            err = v.get('error')
            if err is None or err == '':
                err = 'success: false'
            elif not isinstance(err, str):
                from . import jsonc
                err = jsonc.dumps(err)
            raise Failed(text or None, err[:1000])
        return _reply(inner, 'response')
    if 'text' not in v:
        raise _invalid('text가 없습니다. {"text": "..."}나 문자열을 돌려주세요',
                       'no text; return {"text": "..."} or a str')
    return _reply(v, 'result')
