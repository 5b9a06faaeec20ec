"""Messages tenant code sends to its rooms: `from domaeka import send`.

    from domaeka import send

    def handle_command(params):
        send("가게 공지방", "오늘은 6시에 문을 닫습니다")
        return "공지방에 알렸어요"

`send(room, text)` names a room of the tenant's bots by its name, as the
bot knows it. The messages are collected while the call runs and go out
when it has ended well, after its own reply, in the order sent: a call
that fails (an exception, a timeout) sends none of them, so a half-done
run never speaks. The platform delivers each to every approved room of
that name of the tenant's bots, counts it against the plan's messages a
day and logs each delivery (the logs page, source "send"). A room it does
not know is logged, not raised: the call cannot wait for delivery. At most
SENDS_MAX messages per call; text of 1 to TEXT_MAX_CHARS characters.
"""

from .errors import InvalidMessage, NotInCall, TooManySends

SENDS_MAX = 10
ROOM_MAX_CHARS = 100
TEXT_MAX_CHARS = 4000

_open = False
_pending = []


def begin_call():
    """The runtime, before tenant code runs for a call."""
    global _open
    _open = True
    del _pending[:]


def end_call():
    """The runtime, after the call: what it sent, in order (the runtime keeps them only for a call that ended well)."""
    global _open
    _open = False
    taken = list(_pending)
    del _pending[:]
    return taken


def _text(v, what_ko, what_en, maximum):
    if not isinstance(v, str):
        raise InvalidMessage('%s는 문자열이어야 합니다 (%s) / %s must be a str, not %s' % (what_ko, type(v).__name__, what_en, type(v).__name__))
    v = str.__str__(v)
    # Counted as the runner and the message contract count (UTF-16 units: an emoji is two).
    if not v.strip() or len(v.encode('utf-16-le', 'surrogatepass')) // 2 > maximum:
        raise InvalidMessage('%s는 1~%d자여야 합니다 / %s must be 1 to %d characters' % (what_ko, maximum, what_en, maximum))
    if '\0' in v:
        raise InvalidMessage('%s에 NUL 문자를 쓸 수 없습니다 / %s must not contain NUL' % (what_ko, what_en))
    try:
        v.encode('utf-8')
    except UnicodeEncodeError:
        raise InvalidMessage('%s에 짝이 없는 서로게이트 문자가 있습니다 / %s has a lone surrogate' % (what_ko, what_en)) from None
    return v


def send(room, text):
    """Queues `text` for the tenant's rooms named `room`; they go out once this call ends well."""
    if not _open:
        raise NotInCall('명령어가 실행되는 동안에만 메시지를 보낼 수 있습니다 / send() works only while a call runs')
    room = _text(room, '방 이름', 'room', ROOM_MAX_CHARS)
    text = _text(text, '메시지', 'text', TEXT_MAX_CHARS)
    if len(_pending) >= SENDS_MAX:
        raise TooManySends('한 번 실행에 메시지는 %d개까지 보낼 수 있습니다 / at most %d messages per call' % (SENDS_MAX, SENDS_MAX))
    _pending.append({'room': room, 'text': text})
