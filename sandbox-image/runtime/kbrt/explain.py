"""The common Python mistakes in one plain Korean sentence (issue 16).

Every explanation the platform shows for tenant code is made here, and only
here: tenant.py asks for exceptions, syntax errors at load and timeouts,
lint.py for the syntax errors it finds (saving), server.py for a run that
the lint refuses (running). The runner, the API and the web pass the
sentence on beside the Python message and traceback, which stay as they
were (the editor and the logs show both; a room never sees either).

Each function returns {code, line, message_ko, hint_ko}: message_ko one
sentence naming the line when it is known, hint_ko what to do (or None).
Only exact built-in exception types are read beyond their message: a
tenant subclass could run code from a property, and nothing here runs
under the call's timeout. Imports nothing at load (the runtime's import
budget, tests/test_handlers.py).
"""

COLON = ('%s 끝에 콜론(:)이 빠졌습니다.', '줄 끝에 콜론(:)이 빠졌습니다.',
         'if, for, while, def, else 처럼 블록을 여는 줄은 끝에 : 을 붙여야 합니다.')
INDENT_MISSING = ('%s에 들여쓰기가 빠졌습니다.', '들여쓰기가 빠졌습니다.',
                  '콜론(:)으로 끝나는 줄의 다음 줄은 스페이스 4칸만큼 들여 써야 합니다.')
INDENT_UNEXPECTED = ('%s이 필요 없이 들여 쓰여 있습니다.', '필요 없는 들여쓰기가 있습니다.',
                     '위의 줄과 같은 깊이로 맞춰 주세요.')
INDENT_MISMATCH = ('%s의 들여쓰기 깊이가 위의 줄들과 맞지 않습니다.', '들여쓰기 깊이가 위의 줄들과 맞지 않습니다.',
                   '같은 블록의 줄은 같은 칸 수(보통 스페이스 4칸)만큼 들여 써야 합니다.')
INDENT_OTHER = ('%s의 들여쓰기가 맞지 않습니다.', '들여쓰기가 맞지 않습니다.',
                '블록 안의 줄은 스페이스 4칸씩 들여 써 주세요.')
TABS = ('%s에 탭과 스페이스가 섞여 있습니다.', '들여쓰기에 탭과 스페이스가 섞여 있습니다.',
        '들여쓰기는 스페이스 4칸으로 통일해 주세요.')
UNCLOSED_STRING = ('%s의 따옴표가 닫히지 않았습니다.', '따옴표가 닫히지 않았습니다.',
                   '문자열은 시작한 따옴표와 같은 따옴표로 닫아야 합니다.')
UNCLOSED_BRACKET = ('%s에서 연 괄호가 닫히지 않았습니다.', '연 괄호가 닫히지 않았습니다.',
                    '(, [, { 로 열었으면 ), ], } 로 닫아 주세요.')
UNMATCHED_BRACKET = ('%s의 닫는 괄호가 여는 괄호와 맞지 않습니다.', '닫는 괄호가 여는 괄호와 맞지 않습니다.',
                     '괄호의 짝을 확인해 주세요.')
COMMA = ('%s에 쉼표(,)가 빠진 것 같습니다.', '쉼표(,)가 빠진 것 같습니다.',
         '목록의 값이나 함수의 인자 사이에는 쉼표를 넣어 주세요.')
EQUALS = ('%s에서 = 를 == 로 써야 할 것 같습니다.', '= 를 == 로 써야 할 것 같습니다.',
          '같은지 비교할 때는 == 를, 값을 넣을 때는 = 를 씁니다.')
SYNTAX_OTHER = ('%s에 파이썬 문법에 맞지 않는 부분이 있습니다.', '파이썬 문법에 맞지 않는 부분이 있습니다.',
                '괄호, 따옴표, 콜론(:), 들여쓰기를 확인해 주세요.')

TYPE_NAMES = {'int': '숫자(int)', 'float': '숫자(float)', 'str': '문자열(str)', 'NoneType': 'None(값 없음)',
              'list': '리스트(list)', 'dict': '사전(dict)', 'tuple': '튜플(tuple)', 'bool': '참/거짓(bool)'}
NUMBERS = ('int', 'float')


def seconds(ms):
    """5000 -> '5초', 250 -> '0.25초', 1500 -> '1.5초'."""
    s = ('%.3f' % (max(ms or 0, 0) / 1000.0)).rstrip('0').rstrip('.')
    return '%s초' % (s or '0')


def where(line):
    return '%d번째 줄' % line


def _result(code, line, message, hint):
    return {'code': code, 'line': line, 'message_ko': message, 'hint_ko': hint}


def _said(template, line, *args):
    """template = (with the line, without it, hint): the sentence and the hint."""
    with_line, without, hint = template
    if line:
        return (with_line % ((where(line),) + args)), hint
    return (without % args if args else without), hint


def _syntax_template(kind, msg):
    m = msg or ''
    if kind == 'TabError' or m.startswith('inconsistent use of tabs'):
        return TABS
    if kind == 'IndentationError':
        if m.startswith('expected an indented block'):
            return INDENT_MISSING
        if m.startswith('unexpected indent'):
            return INDENT_UNEXPECTED
        if m.startswith('unindent does not match'):
            return INDENT_MISMATCH
        return INDENT_OTHER
    if m == "expected ':'":
        return COLON
    if m.startswith('unterminated string') or m.startswith('unterminated triple-quoted'):
        return UNCLOSED_STRING
    if 'was never closed' in m:
        return UNCLOSED_BRACKET
    if m.startswith('unmatched') or 'does not match opening parenthesis' in m:
        return UNMATCHED_BRACKET
    if 'forgot a comma' in m:
        return COMMA
    if "Maybe you meant '=='" in m:
        return EQUALS
    return SYNTAX_OTHER


def syntax_sentence(kind, msg):
    """The sentence and hint without a line (a lint finding carries its line apart)."""
    return _said(_syntax_template(kind, msg), None)


def syntax(kind, msg, line):
    """A SyntaxError (kind: its class name: SyntaxError, IndentationError, TabError)."""
    message, hint = _said(_syntax_template(kind, msg), line)
    return _result('KB_ERR_LINT', line, message, hint)


def timeout(ms, line=None, source=None):
    """The call ran out of time; `line` was running then (None: not known)."""
    budget = seconds(ms)
    hint = '반복문(while, for)이 끝나는 조건을 확인하고, 외부 요청에는 timeout=3 처럼 제한 시간을 주세요.'
    if not line:
        return _result('KB_ERR_TIMEOUT', None, '%s 안에 끝나지 않았습니다. 반복문이 끝나지 않았을 수 있습니다.' % budget, hint)
    message = '%s 안에 끝나지 않았습니다. 시간이 다 됐을 때 %s을 실행하고 있었습니다.' % (budget, where(line))
    head = (source or '').strip()
    if head.startswith('while') or head.startswith('for '):
        message += ' 반복문이 끝나지 않았을 수 있습니다.'
    return _result('KB_ERR_TIMEOUT', line, message, hint)


def lint_finding(finding):
    """A lint finding as a run's explanation (the same words the save shows)."""
    message = finding.get('message') or ''
    ko = message.split(' / ', 1)[0]
    line = finding.get('line')
    return _result('KB_ERR_LINT', line, ('%s: %s' % (where(line), ko)) if line else ko, None)


def _shown(value):
    """A key or name as the sentence shows it, without calling tenant code."""
    t = type(value)
    if t is str:
        return "'%s'" % (value if len(value) <= 60 else value[:60] + '...')
    if t is int or t is float or t is bool or value is None:
        return repr(value)
    return '(%s 값)' % type.__dict__['__name__'].__get__(t)


def _type_ko(name):
    return TYPE_NAMES.get(name, "'%s'" % name)


def _between(text, start, end):
    """The text between the first `start` and the next `end` (None when absent)."""
    i = text.find(start)
    if i < 0:
        return None
    i += len(start)
    j = text.find(end, i)
    return text[i:j] if j >= 0 else None


def _operands(msg):
    """(operator, left type, right type) of a TypeError about an operator, else None."""
    if msg.startswith('unsupported operand type(s) for '):
        op = _between(msg, 'for ', ': ')
        left = _between(msg, ": '", "'")
        right = _between(msg, "' and '", "'")
        if op and left and right:
            return op, left, right
    if msg.startswith('can only concatenate '):
        kind = _between(msg, 'concatenate ', ' (not')
        other = _between(msg, '(not "', '")')
        if kind and other:
            return '+', kind, other
    return None


def _near(name, names):
    """A defined name one or two edits from `name` (a typo), else None."""
    best = None
    for n in names:
        if type(n) is not str or n == name or n.startswith('__') or abs(len(n) - len(name)) > 2:
            continue
        d = _distance(name, n)
        if d <= (1 if len(name) <= 4 else 2) and (best is None or d < best[0]):
            best = (d, n)
    return best[1] if best else None


def _distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _frame_names(frame):
    if frame is None:
        return []
    try:
        import builtins
        return list(frame.f_locals) + list(frame.f_globals) + list(builtins.__dict__)
    except Exception:
        return []


def _params_names(frame, params):
    """Names of the innermost tenant frame bound to the very params dict of the call."""
    if frame is None or params is None:
        return []
    try:
        return [n for n, v in dict.items(frame.f_locals) if v is params and type(n) is str]
    except Exception:
        return []


def _key_error(key, line, frame, params, source):
    shown = _shown(key)
    if type(key) is str and type(params) is dict and not dict.__contains__(params, key):
        src = (source or '').replace(' ', '')
        for name in _params_names(frame, params):
            if "%s['%s']" % (name, key) in src or '%s["%s"]' % (name, key) in src:
                at = '%s에서 ' % where(line) if line else ''
                return ('%s%s에 없는 키 %s를 읽었습니다.' % (at, name, shown),
                        '테스트 입력에 %s를 넣었는지 확인하고, 없을 수도 있다면 %s.get(%s)로 읽으세요.' % (shown, name, shown))
    at = '%s에서 ' % where(line) if line else ''
    return ('%s사전(dict)에 없는 키 %s를 읽었습니다.' % (at, shown),
            '값.get(%s)처럼 읽으면 키가 없을 때 None이 됩니다. 먼저 %s in 값 으로 확인할 수도 있습니다.' % (shown, shown))


def _name_error(e, msg, line, frame):
    name = e.name if type(e.name) is str else _between(msg, "name '", "'")
    if not name:
        return None
    at = '%s에서 ' % where(line) if line else ''
    if type(e) is UnboundLocalError:
        return ('%s값을 넣기 전에 %s를 읽었습니다.' % (at, _shown(name)),
                '함수 안에서 값을 넣는 변수는 값을 넣은 뒤에 읽어야 합니다. 바깥의 변수를 바꾸려면 global %s 를 쓰세요.' % name)
    guess = _near(name, _frame_names(frame))
    hint = '철자를 확인하거나, 변수라면 쓰기 전에 값을 넣고, 모듈이라면 맨 위에 import 를 추가하세요.'
    if guess:
        hint = "혹시 '%s'인가요? " % guess + hint
    return '%s쓴 이름 %s가 정의되어 있지 않습니다.' % (at, _shown(name)), hint


def _type_error(msg, line):
    ops = _operands(msg)
    if not ops:
        return None
    op, left, right = ops
    at = '%s에서 ' % where(line) if line else ''
    kinds = {left, right}
    if op in ('+', '+=') and 'str' in kinds and kinds & set(NUMBERS):
        return ('%s숫자와 문자열을 + 로 더하려고 했습니다.' % at,
                '글자로 이으려면 str(숫자)나 f"{값}원" 을, 숫자로 계산하려면 int(문자열)을 쓰세요.')
    if 'NoneType' in kinds:
        return ('%sNone(값 없음)으로 %s 계산을 하려고 했습니다.' % (at, op),
                '앞에서 값을 돌려받지 못해 None이 되었는지 확인하세요 (return 이 빠진 함수, 찾지 못한 값).')
    return ('%s%s 값과 %s 값은 %s 로 계산할 수 없습니다.' % (at, _type_ko(left), _type_ko(right), op),
            '두 값의 종류를 맞춰 주세요 (int(), float(), str() 로 바꿀 수 있습니다).')


def _extra(e, msg, line):
    """A few more mistakes shop owners meet often (empty parameters, None, int('abc'), no network)."""
    t = type(e)
    at = '%s에서 ' % where(line) if line else ''
    if t is IndexError:
        return ('%s목록(리스트)의 범위를 벗어난 위치를 읽었습니다.' % at,
                "len(목록)으로 길이를 먼저 확인하세요. 명령어 뒤에 아무것도 쓰지 않으면 params['parameters']는 빈 목록입니다.")
    if t is AttributeError and msg.startswith("'NoneType' object has no attribute"):
        return ('%sNone(값 없음)에서 %s를 꺼내려고 했습니다.' % (at, _between(msg, "attribute '", "'") or '속성'),
                '앞에서 찾지 못했거나 돌려받지 못한 값이 None이 되었는지 확인하세요.')
    if t is ValueError and msg.startswith('invalid literal for int()'):
        return ('%s숫자가 아닌 글자를 int()로 바꾸려고 했습니다.' % at,
                '값.isdigit()로 숫자인지 먼저 확인하세요.')
    if _is_requests_connection_error(t):
        return ('%s외부 사이트에 연결하지 못했습니다.' % at,
                '무료 요금제에서는 코드가 외부에 접속할 수 없고, 프리미엄 요금제에서는 ⚙ 설정의 외부 접속 도메인에 적은 곳만 접속할 수 있습니다.')
    return None


def _is_requests_connection_error(t):
    for c in type.__dict__['__mro__'].__get__(t):
        module = type.__dict__['__module__'].__get__(c)
        if type(module) is str and module.startswith('requests') and type.__dict__['__name__'].__get__(c) == 'ConnectionError':
            return True
    return False


def exception(e, name, msg, line, frame=None, params=None, source=None):
    """An exception raised by tenant code. name: its shown class name; msg: its text (already made safe);
    frame: the innermost tenant frame; params: the call's params; source: the line's code."""
    t = type(e)
    said = None
    if t is ZeroDivisionError:
        said = (('%s에서 0으로 나누었습니다.' % where(line)) if line else '0으로 나누었습니다.',
                '나누기 전에 나누는 값이 0인지 확인해 주세요 (예: if 개수 != 0:).')
    elif t is KeyError and len(e.args) == 1:
        said = _key_error(e.args[0], line, frame, params, source)
    elif t is NameError or t is UnboundLocalError:
        said = _name_error(e, msg, line, frame)
    elif t is TypeError:
        said = _type_error(msg, line)
    elif t is SystemExit:
        said = ('%ssys.exit()로 코드를 끝냈습니다.' % ('%s에서 ' % where(line) if line else ''),
                'handle_command는 끝내지 말고 return 으로 답을 돌려주어야 합니다.')
    else:
        said = _extra(e, msg, line)
    if said is None:
        said = (('%s에서 %s 오류가 났습니다.' % (where(line), name)) if line else '%s 오류가 났습니다.' % name, None)
    return _result('KB_ERR_USER_EXCEPTION', line, said[0], said[1])
