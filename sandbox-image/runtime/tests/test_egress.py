"""Egress (kbrt/egress.py): tenant HTTP goes through the runner's proxy on a unix socket.

A throwaway proxy here stands in for the runner's: it records each request head it
receives and answers as the test says. The runtime runs as in the container
(python3 -I -B run.py) with KB_EGRESS_SOCKET pointing at it.
"""

import hashlib
import os
import queue
import shutil
import socket
import tempfile
import threading
import unittest

from tests.support import Runtime

try:
    import requests  # noqa: F401 - in the image; maybe not on the host
    HAVE_REQUESTS = True
except ImportError:
    HAVE_REQUESTS = False

DENIED = '허용되지 않은 주소입니다: api.example.com / host not in the allowlist: api.example.com'


def _read_head(conn):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, data
        data += chunk
    head, _, rest = data.partition(b'\r\n\r\n')
    return head.decode('latin-1'), rest


def _read_body(conn, head, rest):
    n = 0
    for line in head.split('\r\n')[1:]:
        name, _, value = line.partition(':')
        if name.strip().lower() == 'content-length':
            n = int(value)
    while len(rest) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest


def _response(status, body, reason='OK'):
    body = body.encode('utf-8') if isinstance(body, str) else body
    return (('HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n'
             'Connection: close\r\n\r\n' % (status, reason, len(body))).encode() + body)


class FakeProxy:
    """A unix-socket HTTP proxy: `answer(conn, head, rest)` handles each connection's first head."""

    def __init__(self, answer):
        self.dir = tempfile.mkdtemp(prefix='kb-egress-')
        self.path = os.path.join(self.dir, 'egress.sock')
        self.answer = answer
        self.heads = queue.Queue()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(64)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                head, rest = _read_head(conn)
                if head is None:
                    return
                self.heads.put(head)
                self.answer(conn, head, rest)
            except OSError:
                pass

    def head(self):
        return self.heads.get(timeout=10)

    def close(self):
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def echo_request_line(conn, head, rest):
    """Plain http through a proxy: the request line in absolute form, answered with itself."""
    conn.sendall(_response(200, 'proxy saw: ' + head.split('\r\n')[0]))


def deny(conn, head, rest):
    conn.sendall(_response(403, DENIED, 'Forbidden'))


def tunnel(conn, head, rest):
    """CONNECT, then an HTTP exchange inside the tunnel: the body's sha256, and 1 MiB back."""
    if not head.startswith('CONNECT '):
        conn.sendall(_response(400, 'CONNECT expected', 'Bad Request'))
        return
    conn.sendall(b'HTTP/1.1 200 Connection Established\r\n\r\n')
    inner, rest = _read_head(conn)
    body = _read_body(conn, inner, rest)
    back = bytes(range(256)) * 4096
    conn.sendall(_response(200, b'%s %s\n' % (hashlib.sha256(body).hexdigest().encode(), inner.split('\r\n')[0].encode())
                           + back))


def hold_tunnel(conn, head, rest):
    """CONNECT answered, then held open until the tenant's end closes."""
    conn.sendall(b'HTTP/1.1 200 Connection Established\r\n\r\n')
    while conn.recv(65536):
        pass


def silent(conn, head, rest):
    """Reads the request and never answers (a slow upstream), until the tenant's end closes."""
    while conn.recv(65536):
        pass


def env(path=None):
    e = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
    if path is not None:
        e['KB_EGRESS_SOCKET'] = path
    return e


class Egress(unittest.TestCase):
    def proxy(self, answer):
        p = FakeProxy(answer)
        self.addCleanup(p.close)
        return p

    def call(self, rt, code, version, **kw):
        return rt.call(code, codeVersion=version, timeoutMs=8000, **kw)

    def test_urllib_http_goes_to_the_proxy_in_absolute_form(self):
        p = self.proxy(echo_request_line)
        code = ('import urllib.request\n'
                'def handle_command(p):\n'
                '    with urllib.request.urlopen("http://api.example.com/x?q=%EB%82%A0%EC%94%A8", timeout=5) as r:\n'
                '        return r.read().decode()\n')
        with Runtime(env=env(p.path)) as rt:
            r = self.call(rt, code, '1')
            self.assertEqual(r['result']['text'], 'proxy saw: GET http://api.example.com/x?q=%EB%82%A0%EC%94%A8 HTTP/1.1')
            head = p.head()
            self.assertIn('\r\nHost: api.example.com\r\n', head + '\r\n')
            # The same module again: a new connection each time, the relay still serving.
            r = rt.call(codeVersion='1', timeoutMs=8000)
            self.assertEqual(r['result']['text'], 'proxy saw: GET http://api.example.com/x?q=%EB%82%A0%EC%94%A8 HTTP/1.1')

    def test_urllib_refusal_shows_the_proxys_reason(self):
        p = self.proxy(deny)
        code = ('import urllib.request, urllib.error\n'
                'def handle_command(p):\n'
                '    try:\n'
                '        urllib.request.urlopen("http://api.example.com/x", timeout=5)\n'
                '    except urllib.error.HTTPError as e:\n'
                '        return "%d %s" % (e.code, e.read().decode())\n')
        uncaught = 'import urllib.request\ndef handle_command(p):\n    urllib.request.urlopen("https://api.example.com/x", timeout=5)\n'
        with Runtime(env=env(p.path)) as rt:
            self.assertEqual(self.call(rt, code, '1')['result']['text'], '403 ' + DENIED)
            # https: CONNECT refused; what the room would see is the status of the tunnel.
            r = self.call(rt, uncaught, '2')
            self.assertEqual(r['error']['code'], 'KB_ERR_USER_EXCEPTION')
            self.assertIn('Tunnel connection failed: 403 Forbidden', r['error']['message'])
            self.assertEqual(p.head().split('\r\n')[0], 'GET http://api.example.com/x HTTP/1.1')
            # Python's http.client (under urllib and requests alike) sends CONNECT as HTTP/1.0, without Host.
            self.assertEqual(p.head().split('\r\n')[0], 'CONNECT api.example.com:443 HTTP/1.0')

    def test_a_tunnel_carries_bytes_both_ways_unchanged(self):
        # http.client through CONNECT (no TLS inside, so the test needs no certificate): 300 KB up, 1 MiB down.
        p = self.proxy(tunnel)
        code = ('import hashlib, http.client, os\n'
                'def handle_command(p):\n'
                '    host, port = os.environ["HTTPS_PROXY"].rsplit("/", 1)[1].split(":")\n'
                '    c = http.client.HTTPConnection(host, int(port), timeout=5)\n'
                '    c.set_tunnel("api.example.com", 80)\n'
                '    body = bytes(range(251)) * 1200\n'
                '    c.request("POST", "/upload", body=body)\n'
                '    data = c.getresponse().read()\n'
                '    first, _, rest = data.partition(b"\\n")\n'
                '    ok = first.split()[0].decode() == hashlib.sha256(body).hexdigest()\n'
                '    return "%s|%s|%d|%s" % (ok, first.split(b" ", 1)[1].decode(), len(rest), rest == bytes(range(256)) * 4096)\n')
        with Runtime(env=env(p.path)) as rt:
            r = self.call(rt, code, '1')
            self.assertEqual(r['result']['text'], 'True|POST /upload HTTP/1.1|1048576|True')
            self.assertEqual(p.head().split('\r\n')[0], 'CONNECT api.example.com:80 HTTP/1.0')

    @unittest.skipUnless(HAVE_REQUESTS, 'requests is not installed on this python')
    def test_requests_through_the_proxy(self):
        p = self.proxy(lambda conn, head, rest: (deny if head.startswith('CONNECT') else echo_request_line)(conn, head, rest))
        code = ('import requests\n'
                'def handle_command(p):\n'
                '    r = requests.get("http://api.example.com/items", params={"q": "날씨"}, timeout=5)\n'
                '    return "%d %s" % (r.status_code, r.text)\n')
        denied = 'import requests\ndef handle_command(p):\n    requests.get("https://api.example.com/x", timeout=5)\n'
        with Runtime(env=env(p.path)) as rt:
            r = self.call(rt, code, '1')
            self.assertEqual(r['result']['text'], '200 proxy saw: GET http://api.example.com/items?q=%EB%82%A0%EC%94%A8 HTTP/1.1')
            r = self.call(rt, denied, '2')
            self.assertEqual(r['error']['code'], 'KB_ERR_USER_EXCEPTION')
            self.assertIn('ProxyError', r['error']['message'])
            self.assertIn('403 Forbidden', r['error']['message'])

    def test_an_unreachable_proxy_is_a_clear_error(self):
        d = tempfile.mkdtemp(prefix='kb-egress-')
        self.addCleanup(shutil.rmtree, d, True)
        code = ('import urllib.request, urllib.error\n'
                'def handle_command(p):\n'
                '    try:\n'
                '        urllib.request.urlopen("http://api.example.com/x", timeout=5)\n'
                '    except urllib.error.HTTPError as e:\n'
                '        return "%d %s" % (e.code, e.read().decode())\n')
        with Runtime(env=env(os.path.join(d, 'nobody-listens.sock'))) as rt:
            r = self.call(rt, code, '1')
            self.assertEqual(r['result']['text'][:4], '502 ')
            self.assertIn('외부 연결 프록시에 연결할 수 없습니다', r['result']['text'])

    def test_at_most_sixteen_connections_at_once_the_rest_wait(self):
        p = self.proxy(hold_tunnel)
        code = ('import os, select, socket\n'
                'def handle_command(p):\n'
                '    port = int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])\n'
                '    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(18)]\n'
                '    for s in socks:\n'
                '        s.sendall(b"CONNECT api.example.com:443 HTTP/1.1\\r\\nHost: api.example.com:443\\r\\n\\r\\n")\n'
                '    answered = sum(1 for s in socks[:16] if s.recv(100).startswith(b"HTTP/1.1 200"))\n'
                # Not a synchronisation: a bounded look that nothing arrives for the 17th and 18th.
                '    waiting = select.select(socks[16:], [], [], 0.5)[0]\n'
                '    socks[0].close()\n'
                '    late = socks[16].recv(100).startswith(b"HTTP/1.1 200")\n'
                '    threads = len(os.listdir("/proc/self/task"))\n'
                '    for s in socks[1:]:\n'
                '        s.close()\n'
                '    return "%d|%d|%s|%d" % (answered, len(waiting), late, threads)\n')
        with Runtime(env=env(p.path)) as rt:
            r = self.call(rt, code, '1')
            # 16 tunnels, none for the 17th until one closed, and still one relay thread for all.
            self.assertEqual(r['result']['text'], '16|0|True|2')

    def test_the_soft_timeout_stops_a_call_waiting_on_the_proxy(self):
        # SIGALRM must reach the main thread blocked in recv(), not the relay thread (it blocks signals).
        p = self.proxy(silent)
        code = ('import urllib.request\n'
                'def handle_command(p):\n'
                '    return urllib.request.urlopen("http://api.example.com/slow").read().decode()\n')
        with Runtime(env=env(p.path)) as rt:
            r = rt.call(code, codeVersion='1', timeoutMs=300)
            self.assertEqual(r['error']['code'], 'KB_ERR_TIMEOUT')
            self.assertEqual(p.head().split('\r\n')[0], 'GET http://api.example.com/slow HTTP/1.1')
            self.assertEqual(rt.request({'id': 9, 'op': 'ping'}), {'id': 9, 'ok': True, 'pong': True})

    def test_proxy_variables_survive_calls_with_secrets(self):
        p = self.proxy(echo_request_line)
        show = ('import os\n'
                'def handle_command(p):\n'
                '    names = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "KB_EGRESS_SOCKET")\n'
                '    return repr([os.environ.get(n) for n in names])\n')
        with Runtime(env=env(p.path)) as rt:
            before = self.call(rt, show, '1', secrets={'API_KEY': 'k'})['result']['text']
            urls = eval(before)  # noqa: S307 - our own repr of a list of strings
            self.assertRegex(urls[0], r'^http://127\.0\.0\.1:\d+$')
            self.assertEqual(urls, [urls[0]] * 4 + ['', None])
            # A secret of the same name wins for its call, and the relay's value comes back after.
            during = self.call(rt, show, '1', secrets={'HTTPS_PROXY': 'http://tenant.example:3128'})['result']['text']
            self.assertEqual(eval(during)[1], 'http://tenant.example:3128')  # noqa: S307
            self.assertEqual(self.call(rt, show, '1')['result']['text'], before)

    def test_with_the_variable_one_relay_thread(self):
        p = self.proxy(echo_request_line)
        code = ('import os, urllib.request\n'
                'def handle_command(p):\n'
                '    for _ in range(3):\n'
                '        urllib.request.urlopen("http://api.example.com/x", timeout=5).read()\n'
                '    return str(len(os.listdir("/proc/self/task")))\n')
        with Runtime(env=env(p.path)) as rt:
            self.assertEqual(self.call(rt, code, '1')['result']['text'], '2')

    def test_without_the_variable_nothing_changes(self):
        code = ('import os, sys\n'
                'def handle_command(p):\n'
                '    proxy = sorted(k for k in os.environ if k.lower().endswith("_proxy"))\n'
                '    return "%s|%d|%s" % (proxy, len(os.listdir("/proc/self/task")), "kbrt.egress" in sys.modules)\n')
        with Runtime(env=env()) as rt:
            self.assertEqual(self.call(rt, code, '1')['result']['text'], '[]|1|False')


if __name__ == '__main__':
    unittest.main()
