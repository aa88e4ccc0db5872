"""Where each HTTP/1.1 request on a connection ends, found from the bytes received so far (no I/O here).

The worker's event loop feeds a connection's bytes in as they arrive; a request goes to a thread only
once it is complete, so a thread never waits for a client. The framing follows gunicorn's parser
(RFC 9112): Content-Length, or a chunked body with optional trailers, or no body. Anything this
module cannot frame is MALFORMED: the bytes go to gunicorn's parser as they are, which answers the
exact 4xx, and the connection is closed after it.
"""

from gunicorn.http.body import CHUNK_EXT_RE

MORE, COMPLETE, MALFORMED, TOO_LARGE, BAD_CHUNK = "more", "complete", "malformed", "too large", "bad chunk"
HEX = frozenset(b"0123456789abcdefABCDEF")


class Framer:
    """One connection's received bytes, and how far the request at their front has arrived."""

    def __init__(self, *, max_body: int, max_line: int, max_head: int):
        self.max_body, self.max_line, self.max_head = max_body, max_line, max_head
        self.buffer = bytearray()
        self._start()

    def _start(self) -> None:
        self.head_end = None  # index just past the blank line that ends the head
        self.length = None  # Content-Length, or None for a chunked body
        self.chunked = False
        self.expects_continue = False  # "Expect: 100-continue" on HTTP/1.1
        self.end = None  # index just past the complete request
        self._pos = 0  # chunked: where the next chunk-size line (or CRLF, or trailer) starts
        self._phase = "size"
        self._decoded = 0  # chunked: body bytes so far, without the framing
        self._seen = 0  # bytes already searched for a terminator (so trickled bytes are not rescanned)
        self._refused = None  # a refusal, once found, stands: asking again gives it again

    @property
    def body_received(self) -> int:
        """Body bytes received so far (with chunk framing)."""
        return 0 if self.head_end is None else len(self.buffer) - self.head_end

    def feed(self, data: bytes = b"") -> str:
        """Add received bytes (or none: look again); MORE, COMPLETE, or a refusal (the same one each time after)."""
        self.buffer += data
        if self._refused is None:
            verdict = self._verdict()
            if verdict in (MALFORMED, TOO_LARGE, BAD_CHUNK):
                self._refused = verdict
            return verdict
        return self._refused

    def _verdict(self) -> str:
        if self.end is not None:
            return COMPLETE
        if self.head_end is None:
            verdict = self._head()
            if verdict is not None:
                return verdict
        if self.chunked:
            return self._chunks()
        if len(self.buffer) >= self.head_end + self.length:
            self.end = self.head_end + self.length
            return COMPLETE
        return MORE

    def take(self) -> bytes:
        """The complete request at the front; what follows it (a pipelined request) stays."""
        request = bytes(self.buffer[: self.end])
        del self.buffer[: self.end]
        self._start()
        return request

    def take_all(self) -> bytes:
        """Everything received (for a request gunicorn will refuse; the connection closes after)."""
        data = bytes(self.buffer)
        self.buffer.clear()
        self._start()
        return data

    def _head(self) -> str | None:
        buffer, seen = self.buffer, self._seen
        end = buffer.find(b"\r\n\r\n", max(0, seen - 3))
        limit = len(buffer) if end < 0 else end + 4
        # RFC 9112 section 2.2: every line of the head ends with CRLF; gunicorn refuses a bare LF at once.
        if buffer.count(b"\n", seen, limit) != buffer.count(b"\r\n", max(0, seen - 1), limit):
            return MALFORMED
        self._seen = limit
        if end < 0:
            first = buffer.find(b"\r\n", 2)
            too_long = len(buffer) > self.max_line + self.max_head or (first < 0 and len(buffer) > self.max_line + 4)
            return MALFORMED if too_long else MORE
        self.head_end = end + 4
        return self._framing(bytes(buffer[:end]).split(b"\r\n"))

    def _framing(self, lines: list[bytes]) -> str | None:
        """How the body is delimited, from the head's lines (as gunicorn's Message.set_body_reader decides)."""
        if not lines[0]:
            lines = lines[1:]  # one empty line before the request line is allowed
        http11 = lines[0].endswith(b" HTTP/1.1")
        lengths, codings = [], []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.upper(), value.strip(b" \t")
            if name == b"CONTENT-LENGTH":
                lengths.append(value)
            elif name == b"TRANSFER-ENCODING":
                codings += [v.strip(b" \t").lower() for v in value.split(b",")]
            elif name == b"EXPECT":
                self.expects_continue = http11 and value.lower() == b"100-continue"
        if codings:
            if codings[-1] != b"chunked" or codings.count(b"chunked") != 1 or lengths or not http11:
                return MALFORMED
            self.chunked, self._pos = True, self.head_end
            return None
        if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            return MALFORMED
        self.length = int(lengths[0]) if lengths else 0
        return TOO_LARGE if self.length > self.max_body else None

    def _chunks(self) -> str:
        buffer = self.buffer
        while True:
            if self._phase == "size":
                eol = buffer.find(b"\r\n", self._pos)
                if eol < 0:
                    return BAD_CHUNK if len(buffer) - self._pos > self.max_line else MORE
                size, semicolon, extension = bytes(buffer[self._pos:eol]).partition(b";")
                if semicolon:
                    size = size.rstrip(b" \t")
                    if not CHUNK_EXT_RE.fullmatch(b";" + extension):
                        return BAD_CHUNK
                if not size or len(size) > 16 or not HEX.issuperset(size):
                    return BAD_CHUNK
                size, self._pos = int(size, 16), eol + 2
                if size == 0:
                    self._phase, self._seen = "trailer", self._pos
                    continue
                self._decoded += size
                if self._decoded > self.max_body:
                    return TOO_LARGE
                self._pos += size
                self._phase = "crlf"
            elif self._phase == "crlf":
                if len(buffer) < self._pos + 2:
                    return MORE
                if buffer[self._pos:self._pos + 2] != b"\r\n":
                    return BAD_CHUNK
                self._pos += 2
                self._phase = "size"
            else:  # the trailer section: an empty line, or header lines and an empty line
                if len(buffer) < self._pos + 2:
                    return MORE
                if buffer[self._pos:self._pos + 2] == b"\r\n":
                    self.end = self._pos + 2
                    return COMPLETE
                end = buffer.find(b"\r\n\r\n", max(self._pos, self._seen - 3))
                self._seen = len(buffer)
                if end < 0:
                    return BAD_CHUNK if len(buffer) - self._pos > self.max_head else MORE
                self.end = end + 4
                return COMPLETE
