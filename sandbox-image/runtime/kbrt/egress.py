"""Egress for tenant code: the runner's HTTP proxy, reachable over loopback.

The container has no network device but `lo` (--network none). For paid plans
the runner serves an HTTP proxy (CONNECT for https, absolute-form requests for
http) on a unix socket mounted into this container only, so the proxy knows
the tenant (DESIGN.md section 5, "Egress"). requests and urllib take a proxy
only as an http:// URL from the environment, i.e. over TCP: this relays
127.0.0.1:<port> byte for byte to that socket and points the proxy variables
at it. The relay decides nothing; the allowlist, DNS and refusals (403 with a
reason) are the proxy's.

Imported only when KB_EGRESS_SOCKET is set (server.main), so an idle free-plan
container never loads _socket, select or a second thread.

One thread serves every connection with poll(): the container's pids limit is
64 and tenant threads count against it. At most MAX_LINKS connections are
relayed at once, because each costs three of the container's 64 fds (the
tenant's end, ours, ours to the proxy); more wait in the listen backlog
until one ends.
"""

import _signal
import _socket
import _thread
import errno
import os
import select

ENV_NAME = 'KB_EGRESS_SOCKET'
PROXY_VARS = ('HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy')
MAX_LINKS = 16
CHUNK = 64 * 1024
BACKLOG = 64
CONNECT_TIMEOUT_S = 2.0
# accept() failing for lack of fds or memory: wait this long (or for a link to end) before trying again.
BACKOFF_MS = 250
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_IN = select.POLLIN
_OUT = select.POLLOUT

_UNREACHABLE = ('외부 연결 프록시에 연결할 수 없습니다. 잠시 후 다시 시도하세요. / '
                'the egress proxy is not reachable; try again shortly.')


def start(environ=None):
    """Starts the relay when KB_EGRESS_SOCKET is set (and removes it); returns the port, else None."""
    environ = os.environ if environ is None else environ
    path = environ.pop(ENV_NAME, None)
    if not path:
        return None
    relay = Relay(path)
    relay.start()
    url = 'http://127.0.0.1:%d' % relay.port
    for name in PROXY_VARS:
        environ[name] = url
    # An inherited exception list must not send a host past the proxy: there is no other way out.
    environ['NO_PROXY'] = ''
    environ['no_proxy'] = ''
    return relay.port


def refusal(status, reason, text):
    """A complete HTTP response the relay gives itself when the proxy cannot answer."""
    body = (text + '\n').encode('utf-8')
    head = ('HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n'
            'Connection: close\r\n\r\n' % (status, reason, len(body)))
    return head.encode('ascii') + body


class Link:
    """One tenant connection (a) and its connection to the proxy (b); bytes wait in at most one
    chunk per direction, so a slow reader stops the other side from being read (backpressure)."""

    __slots__ = ('a', 'b', 'a_to_b', 'b_to_a', 'a_eof', 'b_eof', 'a_shut', 'b_shut')

    def __init__(self, a, b, canned=b''):
        self.a = a
        self.b = b  # None: the proxy was unreachable; `canned` is answered and what a sends is dropped
        self.a_to_b = b''
        self.b_to_a = canned
        self.a_eof = False
        self.b_eof = b is None
        self.a_shut = False
        self.b_shut = b is None

    def masks(self):
        """{fd: poll events} of both sockets (0: nothing to wait for)."""
        a = (_IN if not self.a_eof and not self.a_to_b else 0) | (_OUT if self.b_to_a else 0)
        m = {self.a.fileno(): a}
        if self.b is not None:
            m[self.b.fileno()] = (_IN if not self.b_eof and not self.b_to_a else 0) | (_OUT if self.a_to_b else 0)
        return m

    def pump(self):
        """Moves what can move without blocking; returns False when the link is over."""
        if not self.a_eof and not self.a_to_b:
            data = _recv(self.a)
            if data == b'':
                self.a_eof = True
            elif data is not None and self.b is not None:
                self.a_to_b = data
        if not self.b_eof and not self.b_to_a:
            data = _recv(self.b)
            if data == b'':
                self.b_eof = True
            elif data is not None:
                self.b_to_a = data
        if self.a_to_b:
            self.a_to_b = self.a_to_b[_send(self.b, self.a_to_b):]
        if self.b_to_a:
            self.b_to_a = self.b_to_a[_send(self.a, self.b_to_a):]
        # A half-close is passed on once its side's bytes are through (HTTP/1.0 bodies end that way).
        if self.a_eof and not self.a_to_b and not self.b_shut:
            self.b_shut = True
            _shutdown(self.b)
        if self.b_eof and not self.b_to_a and not self.a_shut:
            self.a_shut = True
            _shutdown(self.a)
        return not (self.a_shut and self.b_shut and self.a_eof and self.b_eof)

    def close(self):
        for s in (self.a, self.b):
            if s is not None:
                s.close()


def _recv(sock):
    try:
        return sock.recv(CHUNK)
    except (BlockingIOError, InterruptedError):
        return None


def _send(sock, data):
    try:
        return sock.send(data)
    except (BlockingIOError, InterruptedError):
        return 0


def _shutdown(sock):
    try:
        sock.shutdown(_socket.SHUT_WR)
    except OSError:  # the peer is gone already; its end shows up as EOF or an error on the next read
        pass


class Relay:
    def __init__(self, path):
        self.path = path
        self.listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(BACKLOG)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.links = {}    # fd -> Link (both fds of a link)
        self.masks = {}    # fd -> events registered with poll
        self.poll = select.poll()
        self.backoff = False

    def start(self):
        # The relay thread blocks every signal, so the kernel delivers SIGALRM (the soft timeout,
        # kbrt/tenant.py) to the main thread: there it interrupts tenant code blocked in a recv().
        # The new thread inherits the mask; the main thread's is restored at once.
        old = _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())
        try:
            _thread.start_new_thread(self._run, ())
        finally:
            _signal.pthread_sigmask(_signal.SIG_SETMASK, old)
        # A process forked by tenant code has no relay thread: it must not keep the sockets open.
        os.register_at_fork(after_in_child=self._close_all)

    def _run(self):
        try:
            while True:
                self._set_mask(self.listener.fileno(), 0 if self.backoff or self._count() >= MAX_LINKS else _IN)
                events = self.poll.poll(BACKOFF_MS if self.backoff else None)
                self.backoff = False
                for fd, _ev in events:
                    if fd == self.listener.fileno():
                        self._accept()
                    else:
                        link = self.links.get(fd)
                        if link is not None:
                            self._pump(link)
        except BaseException:  # noqa: B036 - nothing may reach the tenant's captured stderr
            try:
                self._close_all()
            except BaseException:  # noqa: B036
                pass

    def _count(self):
        return len({id(link) for link in self.links.values()})

    def _accept(self):
        while self._count() < MAX_LINKS:
            try:
                fd, _addr = self.listener._accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in _OUT_OF_RESOURCES:
                    self.backoff = True
                    return
                continue  # ECONNABORTED and the like: that one connection is gone
            try:
                a = _socket.socket(fileno=fd)
            except OSError:
                os.close(fd)
                continue
            try:
                a.setblocking(False)
            except OSError:
                a.close()
                continue
            self._open(a)

    def _open(self, a):
        b = None
        try:
            b = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            # A unix connect is immediate, or fails at once when the proxy's backlog is full.
            b.settimeout(CONNECT_TIMEOUT_S)
            b.connect(self.path)
            b.setblocking(False)
            link = Link(a, b)
        except OSError:  # no proxy there, its backlog full, or no fd left for this side
            if b is not None:
                b.close()
            link = Link(a, None, refusal(502, 'Egress Proxy Unavailable', _UNREACHABLE))
        self._pump(link)

    def _pump(self, link):
        try:
            alive = link.pump()
        except OSError:  # a reset or a broken pipe: the whole exchange is over
            alive = False
        if alive:
            for fd, mask in link.masks().items():
                self.links[fd] = link
                self._set_mask(fd, mask)
            return
        for fd in list(self.links):
            if self.links[fd] is link:
                del self.links[fd]
                self._set_mask(fd, 0)
        link.close()

    def _set_mask(self, fd, mask):
        # A socket registered for nothing would still report a hang-up on every poll: unregister it.
        old = self.masks.get(fd, 0)
        if mask == old:
            return
        if not mask:
            del self.masks[fd]
            self.poll.unregister(fd)
        elif old:
            self.masks[fd] = mask
            self.poll.modify(fd, mask)
        else:
            self.masks[fd] = mask
            self.poll.register(fd, mask)

    def _close_all(self):
        for link in {id(link): link for link in self.links.values()}.values():
            link.close()
        self.links.clear()
        self.listener.close()
