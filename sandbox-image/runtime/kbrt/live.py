"""Output streamed to the runner while a call runs (requests with `stream: true`).

What tenant code prints reaches the capture (capture.Capture) as before and,
for a streaming call, is also sent at once as event frames
`{"id": <request id>, "event": "output", "data": "<text>"}` ahead of the
response: the editor shows a long run's progress as it happens. Frames go
out at a newline or 4 KiB, at most one per FLUSH_GAP_S; what is held back
is in the response's `output` anyway (which stays the complete record).
Only bytes the capture kept are streamed, so the output cap bounds both.
"""

import codecs
import time

FLUSH_GAP_S = 0.05
FLUSH_BYTES = 4096


class LiveOutput:
    def __init__(self, chan, rid, encode):
        self.chan = chan
        self.rid = rid
        self.encode = encode
        self.pending = ''
        self.last = 0.0
        self.active = True
        self.decoder = codecs.getincrementaldecoder('utf-8')('replace')

    def add(self, b):
        # Threads of tenant code may print at once: the channel lock orders the frames.
        with self.chan.lock:
            if not self.active:
                return
            self.pending += self.decoder.decode(bytes(b))
            if not self.pending:
                return
            now = time.monotonic()
            big = len(self.pending) >= FLUSH_BYTES
            if big or ('\n' in self.pending and now - self.last >= FLUSH_GAP_S):
                self._send(now)

    def _send(self, now):
        data, self.pending = self.pending, ''
        self.last = now
        self.chan._write(self.encode({'id': self.rid, 'event': 'output', 'data': data}))

    def close(self):
        """Before the response: no event frame for this request may follow it."""
        with self.chan.lock:
            self.active = False
