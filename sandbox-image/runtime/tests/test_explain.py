"""The common Python mistakes explained in one Korean sentence with the line (issue 16, item 5)."""

import unittest

from tests.support import Runtime, params

from kbrt import explain
from kbrt.lint import lint

# Each mistake as a shop owner makes it: (code, params, code of the error, line, sentence, a word of the hint).
MISTAKES = {
    'missing colon': (
        'def handle_command(params):\n    if params["sender"] == "홍길동"\n        return "안녕"\n    return "?"\n',
        None, 'KB_ERR_LINT', 2, '2번째 줄 끝에 콜론(:)이 빠졌습니다.', '끝에 : 을'),
    'indentation': (
        'def handle_command(params):\nreturn "안녕"\n',
        None, 'KB_ERR_LINT', 2, '2번째 줄에 들여쓰기가 빠졌습니다.', '4칸'),
    'undefined name': (
        'def handle_command(params):\n    city = params["parameters"][0]\n    return cty + " 날씨"\n',
        None, 'KB_ERR_USER_EXCEPTION', 3, "3번째 줄에서 쓴 이름 'cty'가 정의되어 있지 않습니다.", "'city'"),
    'int + str': (
        'def handle_command(params):\n    price = 3000\n    return price + "원"\n',
        None, 'KB_ERR_USER_EXCEPTION', 3, '3번째 줄에서 숫자와 문자열을 + 로 더하려고 했습니다.', 'str('),
    'missing key in params': (
        'def handle_command(params):\n    return params["city"] + " 날씨"\n',
        None, 'KB_ERR_USER_EXCEPTION', 2, "2번째 줄에서 params에 없는 키 'city'를 읽었습니다.", "params.get('city')"),
    'division by zero': (
        'def handle_command(params):\n    count = len(params["parameters"])\n    return str(100 / count)\n',
        params(), 'KB_ERR_USER_EXCEPTION', 3, '3번째 줄에서 0으로 나누었습니다.', '0인지'),
}


class Mistakes(unittest.TestCase):
    def test_each_mistake_gets_its_korean_sentence_with_the_line(self):
        with Runtime() as rt:
            for i, (what, (code, p, err, line, sentence, hint)) in enumerate(MISTAKES.items()):
                with self.subTest(what):
                    r = rt.call(code, params=p if p is not None else params('화도읍'), codeVersion=str(i))
                    e = r['error']
                    self.assertEqual((e['code'], e['line']), (err, line), e)
                    self.assertEqual(e['explanation']['message'], sentence)
                    self.assertIn(hint, e['explanation']['hint'])
                    # Beside the explanation, the Python message stays as it was (the editor shows both).
                    self.assertNotEqual(e['message'], sentence)

    def test_the_python_message_and_traceback_stay(self):
        with Runtime() as rt:
            e = rt.call(MISTAKES['int + str'][0], params=params())['error']
            self.assertEqual(e['message'], "TypeError: unsupported operand type(s) for +: 'int' and 'str'")
            self.assertIn('File "<tenant>", line 3, in handle_command', e['traceback'])

    def test_a_timeout_names_the_line_that_was_running(self):
        with Runtime() as rt:
            r = rt.call('def handle_command(params):\n    n = 0\n    while n >= 0:\n        n += 1\n', timeoutMs=500)
            e = r['error']
            self.assertEqual(e['code'], 'KB_ERR_TIMEOUT')
            self.assertIn(e['line'], (3, 4))
            self.assertTrue(e['message'].startswith('0.5초 안에 끝나지 않았습니다 / '), e['message'])
            self.assertIn('0.5초 안에 끝나지 않았습니다. 시간이 다 됐을 때 %d번째 줄을 실행하고 있었습니다.' % e['line'],
                          e['explanation']['message'])
            self.assertIn('반복문', e['explanation']['hint'])

    def test_a_timeout_without_a_line_says_the_loop_may_not_end(self):
        said = explain.timeout(5000)
        self.assertEqual(said['message_ko'], '5초 안에 끝나지 않았습니다. 반복문이 끝나지 않았을 수 있습니다.')
        self.assertEqual((said['code'], said['line']), ('KB_ERR_TIMEOUT', None))
        self.assertEqual([explain.seconds(ms) for ms in (5000, 250, 1500, 30000)], ['5초', '0.25초', '1.5초', '30초'])

    def test_other_mistakes_still_get_a_korean_sentence(self):
        with Runtime() as rt:
            for i, (body, sentence) in enumerate((
                    ('return params["parameters"][0]', '2번째 줄에서 목록(리스트)의 범위를 벗어난 위치를 읽었습니다.'),
                    ('return {}["x"]', "2번째 줄에서 사전(dict)에 없는 키 'x'를 읽었습니다."),
                    ('raise ValueError("지역 없음")', '2번째 줄에서 ValueError 오류가 났습니다.'),
                    ('return None + 1', '2번째 줄에서 None(값 없음)으로 + 계산을 하려고 했습니다.'))):
                with self.subTest(body):
                    e = rt.call('def handle_command(params):\n    %s\n' % body, params=params(), codeVersion=str(i))['error']
                    self.assertEqual(e['explanation']['message'], sentence)

    def test_a_tenant_exception_subclass_is_not_read_beyond_its_message(self):
        code = ('class Sneaky(KeyError):\n'
                '    @property\n'
                '    def args(self):\n'
                '        raise RuntimeError("ran")\n'
                'def handle_command(params):\n'
                '    raise Sneaky("city")\n')
        with Runtime() as rt:
            e = rt.call(code, params=params())['error']
            self.assertEqual(e['code'], 'KB_ERR_USER_EXCEPTION')
            self.assertEqual(e['explanation']['message'], '6번째 줄에서 Sneaky 오류가 났습니다.')


class SameWordsAtSaveAndRun(unittest.TestCase):
    def test_a_syntax_finding_says_the_sentence_of_the_run(self):
        code = MISTAKES['missing colon'][0]
        found = lint(code)
        self.assertEqual(len(found), 1)
        self.assertTrue(found[0]['message'].startswith('문법 오류: 줄 끝에 콜론(:)이 빠졌습니다. '), found[0]['message'])
        self.assertTrue(found[0]['message'].endswith(" / syntax error: expected ':'"))
        with Runtime() as rt:
            e = rt.call(code, lint=True)['error']
        self.assertEqual(e['explanation']['message'], '2번째 줄 끝에 콜론(:)이 빠졌습니다.')
        self.assertIn(e['explanation']['hint'], found[0]['message'])

    def test_a_run_that_asks_for_the_lint_is_refused_as_the_save_is(self):
        code = 'import os\n\ndef handle_command(params):\n    os.system("id")\n    return "실행됨"\n'
        finding = lint(code)[0]
        with Runtime() as rt:
            r = rt.call(code, lint=True)
            self.assertFalse(r['ok'])
            self.assertEqual((r['error']['code'], r['error']['message'], r['error']['line']),
                             ('KB_ERR_LINT', finding['message'], 1))
            self.assertEqual(r['error']['explanation'], {'message': '1번째 줄: ' + finding['message'].split(' / ')[0], 'hint': None})
            self.assertEqual(r['output'], '')
            # Nothing of it ran; a clean program on the same runtime runs.
            ok = rt.call('def handle_command(params):\n    return "안녕"\n', lint=True, codeVersion='2')
            self.assertEqual(ok['result']['text'], '안녕')

    def test_without_the_lint_flag_the_runtime_runs_what_it_is_given(self):
        # The lint helps users; it is not the boundary (DESIGN.md section 5): the container is.
        with Runtime() as rt:
            r = rt.call('import os\n\ndef handle_command(params):\n    return os.name\n')
            self.assertEqual(r['result']['text'], 'posix')


if __name__ == '__main__':
    unittest.main()
