import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from tests.support import RUN_PY, Runtime, frame

from kbrt import jsonc
from kbrt.channel import Channel, ProtocolError, MAX_FRAME


class ChannelUnit(unittest.TestCase):
    def pipe_channel(self):
        r, w = os.pipe()
        self.addCleanup(lambda: [self._close(fd) for fd in (r, w)])
        return Channel(r, w, 'test'), r, w

    @staticmethod
    def _close(fd):
        try:
            os.close(fd)
        except OSError:
            pass

    def test_round_trip_and_length_prefix(self):
        ch, r, w = self.pipe_channel()
        ch.write_frame('{"a":"가"}'.encode())
        raw = os.read(r, 100)
        self.assertEqual(raw[:4], struct.pack('>I', len('{"a":"가"}'.encode())))
        os.write(w, raw)
        self.assertEqual(ch.read_frame(), '{"a":"가"}'.encode())

    def test_frames_split_and_joined(self):
        ch, r, w = self.pipe_channel()
        data = frame(b'{"x":1}') + frame(b'{"y":2}') + frame(b'')
        os.write(w, data)
        os.close(w)
        self.assertEqual(ch.read_frame(), b'{"x":1}')
        self.assertEqual(ch.read_frame(), b'{"y":2}')
        self.assertEqual(ch.read_frame(), b'')
        self.assertIsNone(ch.read_frame())

    def test_eof_inside_frame_is_a_protocol_error(self):
        ch, r, w = self.pipe_channel()
        os.write(w, frame(b'{"x":1}')[:6])
        os.close(w)
        with self.assertRaises(ProtocolError):
            ch.read_frame()

    def test_oversized_header(self):
        ch, r, w = self.pipe_channel()
        os.write(w, struct.pack('>I', MAX_FRAME + 1))
        with self.assertRaises(ProtocolError):
            ch.read_frame()


class JsonUnit(unittest.TestCase):
    def test_round_trip(self):
        v = {'a': [1, -2.5, 'é가😀', None, True, False, {'b': {}}], 'c': ''}
        self.assertEqual(jsonc.loads(jsonc.dumps(v)), v)
        self.assertEqual(jsonc.dumps({'a': '가'}), '{"a":"가"}')

    def test_refusals(self):
        for bad in ('NaN', '[Infinity]', '{"a":1} x', '', '{', "{'a':1}"):
            with self.assertRaises(ValueError, msg=bad):
                jsonc.loads(bad)
        with self.assertRaises(ValueError):
            jsonc.dumps(float('nan'))
        with self.assertRaises(TypeError):
            jsonc.dumps({1, 2})

    def test_lone_surrogates_still_encode(self):
        b = jsonc.encode({'t': 'a\ud800b'})
        self.assertEqual(b, b'{"t":"a\\ud800b"}')


class Process(unittest.TestCase):
    def test_ready_frame_first(self):
        with Runtime() as rt:
            r = rt.ready
            self.assertEqual((r['id'], r['ok'], r['ready'], r['protocol'], r['transport']), (None, True, True, 1, 'stdio'))
            self.assertIn('runtime', r)
            self.assertTrue(r['python'].startswith('3.'))
            self.assertEqual(rt.close(), 0)

    def test_ids_are_echoed_in_order_when_pipelined(self):
        with Runtime() as rt:
            rt.send_bytes(b''.join(frame({'id': i, 'op': 'ping'}) for i in ('a', 2, None, 'd')))
            self.assertEqual([rt.read()['id'] for _ in range(4)], ['a', 2, None, 'd'])

    def test_request_written_byte_by_byte(self):
        with Runtime() as rt:
            for b in frame({'id': 7, 'op': 'ping'}):
                rt.send_bytes(bytes([b]))
            self.assertEqual(rt.read(), {'id': 7, 'ok': True, 'pong': True})

    def test_bad_requests_get_errors_and_the_loop_goes_on(self):
        with Runtime() as rt:
            r = rt.request(b'not json')
            self.assertEqual((r['id'], r['ok'], r['error']['code']), (None, False, 'KB_ERR_PROTOCOL'))
            r = rt.request(b'[1,2]')
            self.assertEqual(r['error']['code'], 'KB_ERR_PROTOCOL')
            r = rt.request(b'\xff\xfe')
            self.assertEqual(r['error']['code'], 'KB_ERR_PROTOCOL')
            r = rt.request({'id': 3, 'op': 'nope'})
            self.assertEqual((r['id'], r['error']['code']), (3, 'KB_ERR_PROTOCOL'))
            r = rt.request({'id': 4, 'op': 'call', 'params': {}, 'timeoutMs': 'soon'})
            self.assertEqual((r['id'], r['error']['code']), (4, 'KB_ERR_PROTOCOL'))
            self.assertEqual(rt.request({'id': 5, 'op': 'ping'})['pong'], True)

    def test_oversized_frame_ends_the_runtime(self):
        with Runtime() as rt:
            rt.send_bytes(struct.pack('>I', MAX_FRAME + 1))
            r = rt.read()
            self.assertEqual(r['error']['code'], 'KB_ERR_PROTOCOL')
            self.assertEqual(rt.proc.wait(timeout=5), 2)

    def test_clean_eof_exits_zero(self):
        rt = Runtime()
        self.assertEqual(rt.close(), 0)

    def test_large_request_and_response(self):
        with Runtime() as rt:
            code = 'def handle_command(p):\n    return p["big"][:20000]\n' + '#' * 200000 + '\n'
            r = rt.call(code, {'big': '가' * 1000000})
            self.assertTrue(r['ok'], r)
            self.assertEqual(r["result"]["text"], "가" * 20000)


class UnixSocket(unittest.TestCase):
    def test_socket_transport(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, 'rt.sock')
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        proc = subprocess.Popen([sys.executable, '-I', '-B', RUN_PY], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={'KB_RUNTIME_SOCKET': path})
        try:
            srv.settimeout(10)
            conn, _ = srv.accept()
            conn.settimeout(10)
            f = conn.makefile('rwb')

            def read():
                n = struct.unpack('>I', f.read(4))[0]
                return jsonc.loads(f.read(n).decode())

            def req(o):
                f.write(frame(o))
                f.flush()
                return read()

            ready = read()
            self.assertEqual((ready['ready'], ready['transport']), (True, 'unix'))
            r = req({'id': 1, 'op': 'call', 'params': {},
                     'code': 'import os\ndef handle_command(p):\n    print("x")\n    return str(os.environ.get("KB_RUNTIME_SOCKET"))\n'})
            self.assertEqual(r['result'], {'type': 'text', 'text': 'None'})
            self.assertEqual(r['output'], 'x\n')
            f.close()
            conn.close()
            self.assertEqual(proc.wait(timeout=5), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
            srv.close()
            os.unlink(path)
            os.rmdir(d)


if __name__ == '__main__':
    unittest.main()
