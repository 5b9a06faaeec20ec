"""Friendly checks before a run (DESIGN.md section 5). Not the boundary.

lint(code) -> [{code:'KB_ERR_LINT', message, line, column}] (1-based line
and column; messages Korean first, English after ' / '), sorted by place:
syntax errors, handle_command missing / not a function / not callable with
one argument, imports outside the allowlist.
"""

# DESIGN.md section 5, plus the platform's own module (`from domaeka import store`, issue 15).
# A name allows its submodules too (`from dateutil import parser`); 'urllib.parse' allows only
# that part of urllib.
ALLOWED = (
    'requests', 'bs4', 'lxml', 'json', 're', 'math', 'random', 'time', 'datetime',
    'dateutil', 'zoneinfo', 'asyncio', 'urllib.parse', 'html', 'base64', 'hashlib',
    'collections', 'itertools', 'functools', 'statistics', 'decimal', 'string',
    'typing', 'dataclasses', 'domaeka',
)

# Tenant secrets reach the code as os.environ (DESIGN.md section 5), so 'os' is
# let in for reading the environment only: `from os import environ, getenv`, or
# `import os` used solely as os.environ / os.getenv. The rest of os stays out.
ENVIRONMENT = ('environ', 'getenv')

CODE_MAX_BYTES = 256 * 1024


def allowed_module(name):
    for a in ALLOWED:
        if name == a or name.startswith(a + '.'):
            return True
    return False


def _finding(message, line, column):
    return {'code': 'KB_ERR_LINT', 'message': message, 'line': line or 1, 'column': column or 1}


def _not_allowed(name, node):
    return _finding(
        "허용되지 않은 모듈입니다: '%s' / module '%s' is not allowed. 허용 / allowed: %s"
        % (name, name, ', '.join(ALLOWED)),
        node.lineno, node.col_offset + 1)


def _os_for_environment(name, node):
    return _finding("'%s'는 환경 변수(비밀 값)를 읽는 데만 쓸 수 있습니다: os.environ, os.getenv"
                    " / '%s' is allowed only as os.environ and os.getenv (tenant secrets)" % (name, name),
                    node.lineno, node.col_offset + 1)


def _environment_only(tree, name):
    """True when the name bound by `import os` is used, and only as name.environ / name.getenv."""
    import ast
    ok = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name:
            if n.attr not in ENVIRONMENT:
                return False
            ok.add(id(n.value))
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id == name and id(n) not in ok:
            return False
    return bool(ok)


def _arity_problem(args):
    """None when f(params) works, else why not."""
    positional = list(args.posonlyargs) + list(args.args)
    required = len(positional) - len(args.defaults)
    if required > 1:
        return '인자가 %d개 필요합니다' % required, 'it requires %d arguments' % required
    if not positional and args.vararg is None:
        return '인자를 받지 않습니다', 'it takes no argument'
    kw_required = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    if kw_required:
        names = ', '.join(kw_required)
        return '키워드 인자 %s가 필요합니다' % names, 'it requires keyword argument(s) %s' % names
    return None


def _arity_finding(why, node):
    return _finding('handle_command(params)는 인자 하나로 부를 수 있어야 합니다: %s'
                    ' / handle_command must be callable with one argument (params): %s' % why,
                    node.lineno, node.col_offset + 1)


def _top_level(body):
    """Statements of the module body, also inside if/try/with/for/while (not def/class)."""
    import ast
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for field in ('body', 'orelse', 'finalbody'):
            sub = getattr(node, field, None)
            if isinstance(sub, list):
                yield from _top_level(sub)
        for h in getattr(node, 'handlers', None) or ():
            yield from _top_level(h.body)
        for c in getattr(node, 'cases', None) or ():
            yield from _top_level(c.body)


def _check_handler(tree):
    import ast
    found = []
    for node in _top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == 'handle_command':
            found.append(('def', node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id == 'handle_command':
                    found.append(('assign', node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if (a.asname or a.name) == 'handle_command':
                    found.append(('import', node))
    if not found:
        return [_finding('handle_command(params) 함수가 없습니다. def handle_command(params): 를 만들어 주세요'
                         ' / handle_command(params) is not defined', 1, 1)]
    kind, node = found[-1]  # the last binding wins at run time
    if kind == 'def':
        if node.decorator_list:
            return []
        why = _arity_problem(node.args)
        if why:
            return [_arity_finding(why, node)]
        return []
    if kind == 'assign':
        value = node.value
        if isinstance(value, ast.Lambda):
            why = _arity_problem(value.args)
            if why:
                return [_arity_finding(why, node)]
            return []
        if isinstance(value, (ast.Constant, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.JoinedStr,
                              ast.ListComp, ast.DictComp, ast.SetComp)):
            return [_finding('handle_command가 함수가 아닙니다. def handle_command(params): 로 정의해 주세요'
                             ' / handle_command is not a function', node.lineno, node.col_offset + 1)]
    return []


def _check_imports(tree):
    import ast
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == 'os':
                    if not _environment_only(tree, a.asname or 'os'):
                        out.append(_os_for_environment('os', node))
                elif not allowed_module(a.name):
                    out.append(_not_allowed(a.name, node))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.append(_finding('상대 경로 import는 쓸 수 없습니다 / relative imports are not allowed',
                                    node.lineno, node.col_offset + 1))
                continue
            mod = node.module or ''
            if allowed_module(mod):
                continue
            for a in node.names:
                if mod == 'os' and a.name in ENVIRONMENT:
                    continue
                full = mod if a.name == '*' else '%s.%s' % (mod, a.name)
                if a.name == '*' or not allowed_module(full):
                    out.append(_not_allowed(full if a.name != '*' else mod, node))
    return out


def lint(code):
    """Findings for one program (an empty list when it looks runnable)."""
    if type(code) is not str:
        return [_finding('코드는 문자열이어야 합니다 / code must be a string', 1, 1)]
    try:
        size = len(code.encode('utf-8'))
    except UnicodeEncodeError:
        return [_finding('코드에 잘못된 문자가 있습니다 / code contains invalid characters (lone surrogates)', 1, 1)]
    if size > CODE_MAX_BYTES:
        return [_finding('코드가 너무 깁니다 (최대 %d바이트) / code is longer than %d bytes'
                         % (CODE_MAX_BYTES, CODE_MAX_BYTES), 1, 1)]
    import ast
    try:
        tree = ast.parse(code, filename='<tenant>')
    except SyntaxError as e:
        msg = e.msg or 'invalid syntax'
        from . import explain  # the one place of the Korean sentence (a run's error says the same)
        sentence, hint = explain.syntax_sentence(type(e).__name__, msg)
        return [_finding('문법 오류: %s %s / syntax error: %s' % (sentence, hint, msg), e.lineno, e.offset)]
    except ValueError as e:  # NUL bytes (3.11)
        return [_finding('코드를 읽을 수 없습니다: %s / cannot parse: %s' % (e, e), 1, 1)]
    except (RecursionError, MemoryError):
        return [_finding('코드가 너무 깊게 중첩되었습니다 / code is nested too deeply', 1, 1)]
    findings = _check_handler(tree) + _check_imports(tree)
    findings.sort(key=lambda f: (f['line'], f['column']))
    return findings


if __name__ == '__main__':  # python3 -m kbrt.lint < file.py
    import sys
    from . import jsonc
    sys.stdout.write(jsonc.dumps(lint(sys.stdin.read())) + '\n')
