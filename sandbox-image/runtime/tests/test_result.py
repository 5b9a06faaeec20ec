import unittest

from tests.support import Runtime

from kbrt import result as R
from kbrt.result import Failed, ResultError, normalise


class Good(unittest.TestCase):
    def test_str(self):
        self.assertEqual(normalise('안녕'), {'type': 'text', 'text': '안녕'})
        self.assertEqual(normalise(''), {'type': 'text', 'text': ''})

    def test_text_dict(self):
        self.assertEqual(normalise({'text': '날씨'}), {'type': 'text', 'text': '날씨'})
        self.assertEqual(normalise({'text': 5}), {'type': 'text', 'text': '5'})
        self.assertEqual(normalise({'text': None}), {'type': 'text', 'text': ''})

    def test_seed_response_form(self):
        v = {'success': True, 'response': {'text': '🌤️ 화도읍 날씨', 'type': 'text',
                                            'buttons': [{'label': '자세히 보기', 'url': 'https://w.example/1'}]},
             'error': None, 'processing_time': 234}
        self.assertEqual(normalise(v), {'type': 'text', 'text': '🌤️ 화도읍 날씨',
                                        'buttons': [{'label': '자세히 보기', 'url': 'https://w.example/1'}]})
        self.assertEqual(normalise({'success': True, 'response': '짧은 답'}), {'type': 'text', 'text': '짧은 답'})
        self.assertEqual(normalise({'success': True, 'text': '위'}), {'type': 'text', 'text': '위'})

    def test_seed_failure(self):
        with self.assertRaises(Failed) as c:
            normalise({'success': False, 'response': {'text': '없는 주문입니다'}, 'error': 'NOT_FOUND'})
        self.assertEqual((c.exception.text, c.exception.error), ('없는 주문입니다', 'NOT_FOUND'))
        with self.assertRaises(Failed) as c:
            normalise({'success': False, 'error': {'code': 42}})
        self.assertEqual((c.exception.text, c.exception.error), (None, '{"code":42}'))

    def test_images_and_buttons(self):
        self.assertEqual(normalise({'type': 'image', 'url': 'https://i.example/a.png', 'text': '지도'}),
                         {'type': 'image', 'text': '지도', 'url': 'https://i.example/a.png'})
        self.assertEqual(normalise({'response': {'type': 'image', 'image_base64': 'iVBO', 'format': 'png'}}),
                         {'type': 'image', 'text': '', 'image_base64': 'iVBO', 'format': 'png'})
        many = [{'label': str(i), 'url': 'u%d' % i} for i in range(30)]
        self.assertEqual(len(normalise({'text': 't', 'buttons': many})['buttons']), R.MAX_BUTTONS)
        self.assertNotIn('buttons', normalise({'text': 't', 'buttons': [{'label': 'x', 'url': ''}]}))

    def test_subclasses_become_plain(self):
        class S(str):
            def __str__(self):
                return 'evil'

        class D(dict):
            def items(self):
                return [('text', 'evil')]

        r = normalise(D(text=S('좋음')))
        self.assertEqual(r, {'type': 'text', 'text': '좋음'})
        self.assertIs(type(r['text']), str)
        self.assertEqual(normalise({'text': 't', 'extra': (1, 2.5, [True])})['text'], 't')


class Bad(unittest.TestCase):
    def invalid(self, value, code='KB_ERR_INVALID_RESULT'):
        with self.assertRaises(ResultError) as c:
            normalise(value)
        self.assertEqual(c.exception.code, code, c.exception.message)
        self.assertIn(' / ', c.exception.message)
        return c.exception.message

    def test_every_bad_kind(self):
        class Obj:
            pass

        class Liar:
            __class__ = str

        deep = {'text': 't'}
        d = deep
        for _ in range(R.MAX_DEPTH + 5):
            d['x'] = {}
            d = d['x']
        loop = []
        loop.append(loop)
        cases = {
            'None': None, 'set': {1, 2}, 'bytes': b'hi', 'bytearray': bytearray(b'x'), 'object': Obj(),
            'int': 5, 'list': ['a'], 'tuple': ('a',), 'float': 1.5, 'bool': True, 'liar': Liar(),
            'generator': (i for i in range(3)), 'function': normalise,
            'set inside': {'text': 't', 'tags': {1}}, 'bytes inside': {'text': b't'},
            'object inside': {'text': 't', 'o': Obj()}, 'deep': deep, 'cycle': {'text': 't', 'l': loop},
            'surrogate': 'a\ud800', 'surrogate inside': {'text': 'ok', 'k': ['\udfff']},
            'surrogate key': {'text': 'ok', '\ud800': 1},
            'nan': {'text': 't', 'n': float('nan')}, 'inf': {'text': 't', 'n': float('inf')},
            'huge int': {'text': 't', 'n': 10 ** 30}, 'int key': {'text': 't', 1: 'x'},
            'no text': {'hello': 'world'}, 'text dict': {'text': {'nested': True}},
            'text list': {'text': ['a']}, 'text bool': {'text': True},
            'bad type': {'text': 't', 'type': 'video'}, 'buttons str': {'text': 't', 'buttons': 'nope'},
            'button str': {'text': 't', 'buttons': ['x']}, 'image without url': {'type': 'image', 'text': 't'},
            'response list': {'success': True, 'response': [1]},
        }
        for name, value in cases.items():
            with self.subTest(name):
                self.invalid(value)

    def test_none_message_helps(self):
        self.assertIn('return', self.invalid(None))

    def test_size_limits(self):
        self.invalid('a' * (R.TEXT_MAX_BYTES + 1), 'KB_ERR_OUTPUT_LIMIT')
        self.invalid({'text': '가' * (R.TEXT_MAX_BYTES // 3 + 1)}, 'KB_ERR_OUTPUT_LIMIT')
        self.invalid({'text': 't', 'blob': 'x' * (R.RESULT_MAX_BYTES + 1)}, 'KB_ERR_OUTPUT_LIMIT')
        self.invalid({'text': 't', 'many': list(range(10 ** 6))}, 'KB_ERR_OUTPUT_LIMIT')
        self.assertEqual(normalise('a' * R.TEXT_MAX_BYTES)['text'], 'a' * R.TEXT_MAX_BYTES)


class InTheRuntime(unittest.TestCase):
    def test_bad_results_are_reported_and_the_runtime_goes_on(self):
        with Runtime() as rt:
            for i, expr in enumerate(['{1, 2}', 'b"x"', 'object()', '"a\\ud800"', 'float("nan")',
                                      '{"text": "t", "x": float("nan")}', 'None', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]']):
                with self.subTest(expr):
                    r = rt.call('def handle_command(p):\n    return %s\n' % expr, rid=i, codeVersion='v%d' % i)
                    self.assertFalse(r['ok'])
                    self.assertEqual(r['error']['code'], 'KB_ERR_INVALID_RESULT')
            r = rt.call('def handle_command(p):\n    return "x" * 10_000_000\n', codeVersion='big')
            self.assertEqual(r['error']['code'], 'KB_ERR_OUTPUT_LIMIT')
            r = rt.call('def handle_command(p):\n    return {"success": False, "response": {"text": "재고 없음"}, "error": "E1"}\n',
                        codeVersion='fail')
            self.assertEqual(r['error'], {'code': 'KB_ERR_TARGET_FAILED', 'message': 'E1', 'text': '재고 없음'})
            r = rt.call('def handle_command(p):\n    return "fine"\n', codeVersion='ok')
            self.assertEqual(r['result'], {'type': 'text', 'text': 'fine'})


if __name__ == '__main__':
    unittest.main()
