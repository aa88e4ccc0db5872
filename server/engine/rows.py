"""Answers cut at the row cap while pyoxigraph writes them: exactly `cap` rows, in the bytes of the whole answer.

A result set (SELECT) is written by pyoxigraph from the query's lazy solutions into a `Cut`, which finds where
each row begins as the bytes pass, forwards them, and stops the writer where row cap + 1 would begin; `finish`
then closes the document (the format's tail). A graph (CONSTRUCT, DESCRIBE) is written by pyoxigraph from
`Capped`, an iterator that ends after `cap` triples, so every RDF format is cut exactly without reading bytes.
Either way nothing holds more than one write (8 KiB) at a time, however long a row or a value, and the work is
linear in the answer's size.
"""

import functools
import io
import re


class Full(Exception):
    """Raised into pyoxigraph's writer to stop it at the row cap."""


# Per results format: what marks a row start (found outside quoted values, its length in _MARK), the bytes kept
# back at the end of a write (_HOLD: a row start counts once it is whole and, for lines, once a byte follows its
# line break), whether values are quoted ("JSON": "…" with backslash escapes; "CSV": "…" with doubled quotes).
#  JSON: the `{` of an element of "bindings", after `[` (the first) or `,`; the head's arrays hold strings only.
#  XML: `<result>`, never inside a value (`<` is escaped in text).
#  CSV / TSV: a line break followed by a byte (the first line is the header; TSV escapes line breaks in terms,
#  CSV quotes them). The cut keeps the line break.
_MARK = {"JSON": 2, "XML": 8, "CSV": 1, "TSV": 1}
_HOLD = {"JSON": 3, "XML": 7, "CSV": 1, "TSV": 1}  # JSON: _JSON_ROW is 4 bytes
_QUOTED = {"JSON", "CSV"}
# A JSON row start followed by a variable's name: never inside a value, where `"` can only be the closing quote,
# always followed by `,` `}` `]` or `:`; rows with no binding (`{}`) need the values skipped (_STARTS). The first
# row apart: a pattern that begins with a literal is searched several times faster.
_JSON_ROW = re.compile(rb',\{"[^",}\]:]')
_JSON_FIRST = re.compile(rb'\[\{"[^",}\]:]')
_STRING = re.compile(rb'"[^"]*"')  # a quoted value, once escaped quotes are masked (JSON) or doubled (CSV)
_STARTS = {"JSON": re.compile(rb'"[^"]*"|[\[,]\{'), "CSV": re.compile(rb'"[^"]*"|\n'),
           "XML": re.compile(rb"<result>"), "TSV": re.compile(rb"\n")}
# JSON and CSV are read only past HELD bytes, or once they may hold more rows than the cap (a row start needs a
# `{` in JSON, a line break in CSV: their count bounds the rows): a short answer is never scanned.
HELD = 1 << 16
_BOUND = {"JSON": b"{", "CSV": b"\n"}
_TAIL = {"JSON": b"]}}", "XML": b"</results></sparql>", "CSV": b"", "TSV": b""}


def _masked(data: bytes, fmt: str) -> bytes:
    """`data` with every quote that does not open or close a value masked, same length (JSON's `\\` and `\"`)."""
    if fmt != "JSON" or b"\\" not in data:
        return data
    return data.replace(b"\\\\", b"__").replace(b'\\"', b"__")


def _count(plain: bytes, fmt: str) -> int:
    """Row starts in `plain` (whole quoted values only)."""
    if fmt in _QUOTED and b'"' in plain:
        plain = _STRING.sub(b'""', plain)
    if fmt == "JSON":
        return plain.count(b",{") + plain.count(b"[{")
    return plain.count(b"<result>" if fmt == "XML" else b"\n")


def _position(plain: bytes, fmt: str, offset: int, nth: int) -> int:
    """Where the `nth` (1-based) row start of `plain` begins, less `offset`."""
    for match in _STARTS[fmt].finditer(plain):
        if not match.group().startswith(b'"'):
            nth -= 1
            if not nth:
                return match.start() - offset
    raise AssertionError("a counted row start was not found")


class Cut(io.RawIOBase):
    """pyoxigraph's results writer into `out`, stopped (Full) where row `cap` + 1 would begin."""

    def __init__(self, fmt: str, cap: int, out):
        self.fmt, self.cap, self.out = fmt, cap, out
        self.rows, self.truncated = 0, False  # rows: counted once the bytes are read (all of a cut answer's)
        self.pending = b""  # the last few bytes of a write, where a row start or an escape may be incomplete
        self.inside = False  # JSON / CSV: whether `pending` begins inside a quoted value
        self.held, self.size, self.bound = ([] if fmt in _BOUND else None), 0, 0  # the unread start (see HELD)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.truncated:  # pyoxigraph writes its buffer again when it drops it after an error
            raise Full
        data = bytes(data)
        written = len(data)
        if self.held is not None:
            self.held.append(data)
            self.size += len(data)
            self.bound += data.count(_BOUND[self.fmt])
            if self.bound <= self.cap and self.size < HELD:
                return written
            self.held, data = None, b"".join(self.held)  # from here on every byte is read, these first
        self._read(data)
        return written

    def _read(self, data: bytes) -> None:
        """Forward `data` but its last few bytes (kept for the next write), counting row starts; Full at cap + 1."""
        region = self.pending + data
        end = max(len(region) - _HOLD[self.fmt], 0)
        if self.fmt == "JSON":  # never split an escape: keep back an unpaired backslash
            run = 0
            while run < end and region[end - 1 - run] == 0x5C:
                run += 1
            end -= run % 2
        plain = _masked(region, self.fmt)
        if self.fmt == "JSON" and b"{}" not in region:  # no empty row, so every row start has a name after it
            first = _JSON_FIRST.search(region) if not self.rows else None
            starts = [match.start() for match in _JSON_ROW.finditer(region) if match.start() < end]
            if first and first.start() < end:
                starts.insert(0, first.start())
            found, nth = len(starts), lambda n: starts[n - 1]
        else:
            opened = b'"' if self.inside else b""  # a value still open: its quote, so it is skipped whole
            window = opened + plain[:end + _MARK[self.fmt] - 1]  # the row starts that begin before `end`
            if self.fmt in _QUOTED and window.count(b'"') % 2:  # the last value goes on in the next write
                window = window[:window.rindex(b'"')]
            found = _count(window, self.fmt)
            nth = functools.partial(_position, window, self.fmt, len(opened))
        if self.rows + found > self.cap:
            cut = nth(self.cap - self.rows + 1)
            self.out.write(region[:cut + (region[cut:cut + 1] == b"[" or self.fmt in ("CSV", "TSV"))])
            self.rows, self.truncated, self.pending = self.cap, True, b""
            raise Full
        self.rows += found
        if self.fmt in _QUOTED:
            self.inside ^= plain.count(b'"', 0, end) % 2 == 1
        self.out.write(region[:end])
        self.pending = region[end:]

    def finish(self) -> None:
        """After the writer stopped: the rest of a whole answer, or the tail that closes a cut one."""
        if self.held is not None:
            self.out.write(b"".join(self.held))
        else:
            self.out.write(_TAIL[self.fmt] if self.truncated else self.pending)


class Capped:
    """The first `cap` triples of `triples`, for pyoxigraph's RDF writers; `truncated` once one more was there."""

    def __init__(self, triples, cap: int):
        self.triples, self.cap, self.rows, self.truncated = triples, cap, 0, False

    def __iter__(self):
        for triple in self.triples:
            if self.rows == self.cap:
                self.truncated = True
                return
            self.rows += 1
            yield triple
