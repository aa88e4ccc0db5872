r"""Find and repair GBK mojibake: double-byte text decoded one byte out of step.

A reprint that loses one byte of a GBK stream reads every following pair of bytes
across a character boundary (科技 bf c6 bc bc → 萍 c6 bc …) until a one-byte character
puts the decoder back in step.  We re-encode a suspicious stretch to its bytes, try the
few ways the lost byte(s) could be restored (each ``?`` the decoder left is either one
unknown byte or a whole lost character), and keep the reading whose characters the rest
of the document actually uses.  Nothing here knows what the article says.

>>> text = "有χ?撐城鄉建設;大力支持"  # 有力支撐 with one byte lost: 力支 read out of step
>>> [(text[e.start:e.end], e.result) for e in mojibake_edits(text)]
[('χ?', '力支')]
>>> text = "研l新型儲能技術;發展新型儲能"  # 研發: the lead byte of 發 lost, its trail byte read as 'l'
>>> [(text[e.start:e.end], e.result) for e in mojibake_edits(text)]
[('l', '發')]
>>> text = "在本網發表的作品,如涉及作品內容、版權等問題,請?谧髌钒l表之日起一周內與本網聯系"
>>> [(text[e.start:e.end], e.result) for e in mojibake_edits(text)]
[('?谧髌钒l', '在作品發')]
"""

import itertools
from collections import Counter
from functools import cache

from kg.text.textmap import Edit

UNKNOWN, LOST = -1, -2  # a byte we must guess; a character that is gone for good
MAX_GAP = 3  # suspicious characters at most this far apart belong to one stretch
MAX_GUESSES = 4  # at most 2**4 readings of the ``?`` marks in one stretch


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@cache
def _in_gb2312(ch: str) -> bool:
    """True for characters of the GB 2312 set, or traditional forms of them."""
    from kg.text.chinese import to_simplified

    try:
        to_simplified(ch).encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def is_suspicious(text: str, i: int) -> bool:
    """A character a GBK misreading typically leaves: private-use, '?', a rare hanzi, a letter among hanzi."""
    ch = text[i]
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    next_to_hanzi = _is_cjk(before) or _is_cjk(after)
    if "\ue000" <= ch <= "\uf8ff" or ch == "\ufffd":
        return True
    if ch == "?":
        return next_to_hanzi
    if ch.isascii() and ch.isalpha():
        return _is_cjk(before) and _is_cjk(after)
    return _is_cjk(ch) and not _in_gb2312(ch)


def _stretches(text: str) -> list[tuple[int, int]]:
    """Group suspicious characters that lie close together into [start, end) stretches."""
    marks = [i for i in range(len(text)) if is_suspicious(text, i)]
    stretches: list[list[int]] = []
    for i in marks:
        if stretches and i - stretches[-1][1] <= MAX_GAP:
            stretches[-1][1] = i + 1
        else:
            stretches.append([i, i + 1])
    return [(s, e) for s, e in stretches]


def _decode_pair(lead: int, trail: int) -> str | None:
    if not (0x81 <= lead <= 0xFE and 0x40 <= trail <= 0xFE and trail != 0x7F):
        return None
    try:
        return bytes((lead, trail)).decode("gb18030")
    except UnicodeDecodeError:
        return None


def _best_guess(pairs, usage: Counter) -> str | None:
    """The candidate character the document uses most, or None when it uses none of them."""
    scored = [(usage[ch], ch) for ch in (_decode_pair(lead, trail) for lead, trail in pairs) if ch]
    count, ch = max(scored, default=(0, None))
    return ch if count > 0 else None


def _decode(template: list[int], usage: Counter) -> str | None:
    """Decode bytes (with UNKNOWN and LOST marks) as GBK; None if the bytes do not end in step."""
    out, i, n = [], 0, len(template)
    while i < n:
        byte = template[i]
        following = template[i + 1] if i + 1 < n else None
        if byte == LOST:
            out.append("?")
            i += 1
        elif byte == UNKNOWN:
            if following is None or following < 0:
                out.append("?")
                i += 1
                continue
            out.append(_best_guess(((lead, following) for lead in range(0x81, 0xFF)), usage) or "?")
            i += 2
        elif byte < 0x80:
            out.append(chr(byte))
            i += 1
        elif following is None or following == LOST:
            return None  # a lead byte left dangling: this reading is out of step
        else:
            if following == UNKNOWN:
                ch = _best_guess(((byte, trail) for trail in range(0x40, 0xFF)), usage)
            else:
                ch = _decode_pair(byte, following)
                if ch is None:
                    return None
            out.append(ch or "?")
            i += 2
    return "".join(out)


def _readings(chars: str, usage: Counter):
    """Every way to restore the stretch's bytes: each '?' one unknown byte or a lost character."""
    encoded = []
    for ch in chars:
        if ch in "?\ufffd":
            encoded.append(None)
            continue
        data = ch.encode("gb18030")
        if len(data) > 2:
            return  # not a GBK character: this stretch is not GBK mojibake
        encoded.append(list(data))
    holes = sum(1 for e in encoded if e is None)
    if holes > MAX_GUESSES:
        return
    for fills in itertools.product((UNKNOWN, LOST), repeat=holes):
        fill = iter(fills)
        template = [b for e in encoded for b in (e if e is not None else [next(fill)])]
        for variant in (template, [UNKNOWN] + template, [LOST] + template[1:]):
            decoded = _decode(variant, usage)
            if decoded is not None:
                yield decoded


def _score(chars: str, text: str, start: int, usage: Counter) -> int:
    """+1 for a character the rest of the document uses, -1 for a suspicious or lost one."""
    score, candidate = 0, text[:start] + chars + text[start + len(chars) :]
    for offset, ch in enumerate(chars):
        if ch in "?\ufffd" or is_suspicious(candidate, start + offset):
            score -= 1
        elif usage[ch] > 0:
            score += 1
    return score


def mojibake_edits(text: str) -> list[Edit]:
    """Edits that repair each mojibake stretch of `text`; unrepairable characters stay as '?'."""
    stretches = _stretches(text)
    usage = Counter(text)
    for start, end in stretches:
        usage.subtract(text[start:end])
    edits = []
    for start, end in stretches:
        best = None
        for grow_left, grow_right in itertools.product(range(3), range(3)):
            s, e = max(0, start - grow_left), min(len(text), end + grow_right)
            before = _score(text[s:e], text, s, usage)
            for reading in _readings(text[s:e], usage):
                gain = _score(reading, text, s, usage) - before
                if best is None or gain > best[0]:
                    best = (gain, s, e, reading)
        if best and best[0] > 0:
            _, s, e, reading = best
            edits.append(Edit(s, e, reading, "mojibake"))
    return edits
