import unittest

from tests.support import Runtime

from kbrt.lint import ALLOWED, lint

OK = 'def handle_command(params):\n    return "x"\n'

# DESIGN.md section 5, exactly.
DESIGN_ALLOWLIST = ['requests', 'bs4', 'lxml', 'json', 're', 'math', 'random', 'time', 'datetime', 'dateutil',
                    'zoneinfo', 'asyncio', 'urllib.parse', 'html', 'base64', 'hashlib', 'collections', 'itertools',
                    'functools', 'statistics', 'decimal', 'string', 'typing', 'dataclasses']
# The platform's own module for tenant code (issue 15: `from domaeka import store`).
PLATFORM = ['domaeka']


def codes(src):
    return [(f['line'], f['column']) for f in lint(src)]


class Lint(unittest.TestCase):
    def test_allowlist_is_design_md_and_the_platform_module_exactly(self):
        self.assertEqual(list(ALLOWED), DESIGN_ALLOWLIST + PLATFORM)

    def test_the_platform_module_passes(self):
        points = ('from domaeka import store\n\n'
                  'def handle_command(params):\n'
                  '    return f"포인트: {store.incr(params[\'sender\'])}"\n')
        self.assertEqual(lint(points), [])
        self.assertEqual(lint('import domaeka.store\n' + OK), [])
        self.assertEqual(lint('from domaeka import StoreError, QuotaExceeded\n' + OK), [])
        self.assertEqual(len(lint('import domaekax\n' + OK)), 1)

    def test_clean_programs(self):
        self.assertEqual(lint(OK), [])
        seed_weather = ('import requests\nfrom bs4 import BeautifulSoup\n\n'
                        'def handle_command(params):\n'
                        '    location = params["parameters"][0]\n'
                        '    soup = BeautifulSoup(requests.get("https://x").text, "html.parser")\n'
                        '    return {"text": f"{location}"}\n')
        self.assertEqual(lint(seed_weather), [])
        for body in ('async def handle_command(params):\n    return "x"\n',
                     'def handle_command(params, extra=1, *, flag=False):\n    pass\n',
                     'def handle_command(*args):\n    pass\n',
                     'def handle_command(params, /):\n    pass\n',
                     'handle_command = lambda p: "x"\n',
                     'import functools\n@functools.lru_cache\ndef handle_command(a, b):\n    pass\n',
                     'try:\n    import json\nexcept ImportError:\n    pass\nelse:\n    def handle_command(p):\n        pass\n',
                     'if True:\n    def handle_command(p):\n        pass\n'):
            with self.subTest(body):
                self.assertEqual(lint(body), [])

    def test_every_allowed_module_and_submodules(self):
        for name in DESIGN_ALLOWLIST:
            with self.subTest(name):
                self.assertEqual(lint('import %s\n' % name + OK), [])
        for src in ('from dateutil import parser', 'import dateutil.parser', 'from dateutil.tz import gettz',
                    'import bs4.element', 'from urllib import parse', 'from urllib.parse import quote, urlencode',
                    'import urllib.parse as up', 'from lxml import etree', 'import html.parser',
                    'from collections import Counter', 'import collections.abc', 'from zoneinfo import ZoneInfo'):
            with self.subTest(src):
                self.assertEqual(lint(src + '\n' + OK), [])

    def test_imports_outside_the_allowlist(self):
        for src, line_col in (('import os', (1, 1)), ('import sys, json', (1, 1)), ('import urllib', (1, 1)),
                              ('import urllib.request', (1, 1)), ('from urllib import request', (1, 1)),
                              ('from urllib import *', (1, 1)), ('from os import path', (1, 1)),
                              ('import requestsx', (1, 1)), ('import jsonschema', (1, 1)),
                              ('import subprocess as sp', (1, 1)), ('from . import x', (1, 1)),
                              ('import ctypes', (1, 1)), ('import importlib', (1, 1))):
            with self.subTest(src):
                found = lint(src + '\n' + OK)
                self.assertEqual(len(found), 1, found)
                self.assertEqual((found[0]['line'], found[0]['column']), line_col)

        found = lint('import json\n' + OK + '\ndef helper():\n    import socket\n    from os import system\n')
        self.assertEqual([(f['line'], f['column']) for f in found], [(6, 5), (7, 5)])
        self.assertIn("'socket'", found[0]['message'])
        self.assertIn("'os.system'", found[1]['message'])
        found = lint('from urllib import parse, request\n' + OK)
        self.assertEqual(len(found), 1)
        self.assertIn("'urllib.request'", found[0]['message'])

    def test_syntax_errors_have_line_and_column(self):
        found = lint('def handle_command(params):\n    return (1 +\n')
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]['code'], 'KB_ERR_LINT')
        self.assertEqual(found[0]['line'], 2)
        found = lint('x = 1\ndef handle_command(params)\n    pass\n')
        self.assertEqual((found[0]['line'], found[0]['column']), (2, 27))
        self.assertTrue(found[0]['message'].startswith('문법 오류'))
        found = lint('def handle_command(p):\n\treturn 1\n        return 2\n')
        self.assertEqual(found[0]['line'], 3)
        self.assertEqual(len(lint('a = 1\0')), 1)
        self.assertEqual(len(lint('x = ' + '(' * 300 + ')' * 300 + '\n' + OK)), 1)
        self.assertEqual(len(lint('x = 1\n' * 100000)), 1)  # too long

    def test_handle_command_missing_or_wrong(self):
        found = lint('def handle(params):\n    pass\n')
        self.assertEqual(codes('def handle(params):\n    pass\n'), [(1, 1)])
        self.assertIn('handle_command', found[0]['message'])
        self.assertEqual(codes('class X:\n    def handle_command(self, p):\n        pass\n'), [(1, 1)])
        self.assertEqual(codes('def f():\n    def handle_command(p):\n        pass\n'), [(1, 1)])
        self.assertEqual(codes('handle_command = 5\n'), [(1, 1)])
        self.assertIn('함수가 아닙니다', lint('handle_command = "x"\n')[0]['message'])
        for bad in ('def handle_command():\n    pass\n', 'def handle_command(a, b):\n    pass\n',
                    'def handle_command(p, *, key):\n    pass\n', 'async def handle_command(a, b, c=1):\n    pass\n',
                    'handle_command = lambda: 1\n'):
            with self.subTest(bad):
                self.assertEqual(len(lint(bad)), 1)
        self.assertEqual(codes('x = 1\n\ndef handle_command(a, b):\n    pass\n'), [(3, 1)])

    def test_os_for_the_environment_only(self):
        # Tenant secrets are in os.environ for the call (DESIGN.md section 5).
        for src in ('import os\n\ndef handle_command(p):\n    return os.environ.get("KEY", "")\n',
                    'import os as o\n\ndef handle_command(p):\n    return o.getenv("KEY") or o.environ["X"]\n',
                    'from os import environ, getenv\n' + OK,
                    'from os import environ as env\n' + OK):
            with self.subTest(src):
                self.assertEqual(lint(src), [])
        for src, n in (('import os\n' + OK, 1),
                       ('import os\n\ndef handle_command(p):\n    return os.system("id")\n', 1),
                       ('import os\n\ndef handle_command(p):\n    print(os.environ)\n    return repr(os)\n', 1),
                       ('from os import environ, system\n' + OK, 1),
                       ('from os import path, environ\n' + OK, 1),
                       ('import os.path\n' + OK, 1)):
            with self.subTest(src):
                found = lint(src)
                self.assertEqual(len(found), n, found)
                self.assertEqual(found[0]['line'], 1)

    def test_findings_shape_and_order(self):
        found = lint('import os\nimport sys\n')
        self.assertEqual([(f['line'], f['column']) for f in found], [(1, 1), (1, 1), (2, 1)])
        for f in found:
            self.assertEqual(set(f), {'code', 'message', 'line', 'column'})
            self.assertEqual(f['code'], 'KB_ERR_LINT')
            ko, _, en = f['message'].partition(' / ')
            self.assertTrue(en, f['message'])
            self.assertTrue(any('\uac00' <= ch <= '\ud7a3' for ch in ko), ko)

    def test_lint_op_in_the_runtime(self):
        with Runtime() as rt:
            r = rt.request({'id': 'l1', 'op': 'lint', 'code': 'import os\n' + OK})
            self.assertEqual((r['id'], r['ok'], len(r['findings'])), ('l1', True, 1))
            self.assertEqual(rt.request({'id': 2, 'op': 'lint', 'code': OK})['findings'], [])
            self.assertEqual(rt.request({'id': 3, 'op': 'lint', 'code': 5})['error']['code'], 'KB_ERR_PROTOCOL')


if __name__ == '__main__':
    unittest.main()
