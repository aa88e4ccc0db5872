"""Raw article → clean simplified-Chinese text, with an offset map back to the raw text and a list of repairs.

>>> text = normalize("示例網(wǎng)首頁>資訊中心\\n《“十四五” 示例合作實(shí)施方案》(以下簡(jiǎn)稱《方案》)\\n關(guān)鍵詞")
>>> text.clean
'《“十四五” 示例合作实施方案》（以下简称《方案》）'
>>> text.raw[slice(*text.raw_span(0, 3))]
'《“十'
>>> normalize("支撐城鄉重點(diǎn)產(chǎn)業(yè)").clean
'支撑城乡重点产业'
"""

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache

from kg.paths import SOURCES
from kg.text.chinese import to_simplified
from kg.text.mojibake import is_suspicious, mojibake_edits
from kg.text.textmap import Edit, MappedText, Repair, raw_span

TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
SYLLABLE = f"(?=[a-zü{TONED}]*[{TONED}])[a-zü{TONED}]{{1,6}}"
# 網(wǎng): a toned syllable in parentheses; ?jiān): one whose "(" was swallowed by a misread byte
PINYIN = re.compile(rf"\({SYLLABLE}\)|(?<=\?){SYLLABLE}\)")
HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！"}


@dataclass(frozen=True)
class Cut:
    """A stretch of the raw text that is not part of the article (navigation, related reading …)."""

    section: str
    raw_start: int
    raw_end: int


@dataclass(frozen=True)
class Text:
    """The clean article text, and how each of its characters traces back to the raw text."""

    raw: str
    clean: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    repairs: tuple[Repair, ...]
    unrepaired: tuple[int, ...]  # clean offsets of characters that stay '?' because their bytes are lost
    cuts: tuple[Cut, ...]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw [start, end) that the clean [start, end) came from."""
        return raw_span(self.starts, self.ends, len(self.raw), start, end)

    def clean_span(self, raw_start: int, raw_end: int) -> tuple[int, int]:
        """The clean [start, end) made from raw [raw_start, raw_end); a point where that raw text was removed."""
        inside = [i for i in range(len(self.clean)) if raw_start <= self.starts[i] and self.ends[i] <= raw_end]
        if inside:
            return inside[0], inside[-1] + 1
        after = next((i for i in range(len(self.clean)) if self.starts[i] >= raw_end), len(self.clean))
        return after, after


@lru_cache(maxsize=1)
def genre() -> dict:
    """The genre patterns of kg/sources/genre.toml."""
    with (SOURCES / "genre.toml").open("rb") as handle:
        return tomllib.load(handle)


def _pinyin_edits(text: str) -> list[Edit]:
    return [Edit(m.start(), m.end(), "", "pinyin") for m in PINYIN.finditer(text)]


def _is_hanzi_or_mark(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" or ch in "“”《》"


def _punctuation_edits(text: str) -> list[Edit]:
    """Half-width punctuation inside Chinese prose → the full-width forms Chinese text uses."""
    edits = []
    for i, ch in enumerate(text):
        if ch in HALF_TO_FULL:
            before = text[:i].rstrip(" ")[-1:]
            after = text[i + 1 :].lstrip(" ")[:1]
            if _is_hanzi_or_mark(before) or _is_hanzi_or_mark(after):
                edits.append(Edit(i, i + 1, HALF_TO_FULL[ch], "punctuation"))
    return edits


def _simplified_edits(text: str) -> list[Edit]:
    """Traditional characters → simplified, one edit per run of converted characters."""
    edits = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        simple = to_simplified(line)
        if len(simple) != len(line):  # a phrase conversion changed the length: convert char by char
            simple = "".join(to_simplified(ch) for ch in line)
        run = None
        for i, (old, new) in enumerate(zip(line, simple, strict=True)):
            if old != new:
                run = i if run is None else run
            elif run is not None:
                edits.append(Edit(match.start() + run, match.start() + i, simple[run:i], "traditional"))
                run = None
        if run is not None:
            edits.append(Edit(match.start() + run, match.end(), simple[run:], "traditional"))
    return edits


def _whitespace_edits(text: str) -> list[Edit]:
    """Indentation, trailing blanks and blank lines made of spaces go; paragraphs stay apart."""
    edits = [Edit(m.start(), m.end(), "", "whitespace") for m in re.finditer(r"(?m)^[ \t\u3000\u00a0]+|[ \t\u3000\u00a0]+$", text)]
    return edits


def _boilerplate(text: str) -> list[tuple[str, int, int]]:
    """(section, start, end) of navigation lines and of each trailer section (keywords, related reading …)."""
    patterns = genre()["boilerplate"]
    cuts = []
    for line in re.finditer(r"[^\n]*\n?", text):
        if any(marker in line.group() for marker in patterns["navigation"]):
            cuts.append(("navigation", line.start(), line.end()))
    headings = [
        (line.start(), section)
        for line in re.finditer(r"(?m)^(\S+).*$", text)
        for heading, section in patterns["trailer"].items()
        if line.group(1).startswith(heading)
    ]
    headings = [(start, section) for start, section in headings if not any(s < start < e for _, s, e in cuts)]
    ends = [start for start, _ in headings[1:]] + [len(text)]
    cuts += [(section, start, end) for (start, section), end in zip(headings, ends, strict=False)]
    return cuts


def _unrepaired(mapped: MappedText) -> list[int]:
    return [i for i, ch in enumerate(mapped.text) if ch in "?\ufffd" and is_suspicious(mapped.text, i)]


def normalize(raw: str) -> Text:
    """Strip pinyin, repair mojibake, simplify, cut boilerplate; keep offsets and a list of repairs."""
    mapped = MappedText(raw)
    for step in (_pinyin_edits, mojibake_edits, _punctuation_edits, _simplified_edits, _whitespace_edits):
        mapped.apply(step(mapped.text))
    sections = _boilerplate(mapped.text)
    cuts = [Cut(section, *mapped.raw_span(start, end)) for section, start, end in sections]
    mapped.apply(Edit(start, end, "", "boilerplate") for _, start, end in sections)
    # what was cut is not published: neither are the repairs made inside it
    inside_cut = lambda r: any(c.raw_start <= r.raw_start and r.raw_end <= c.raw_end for c in cuts)  # noqa: E731
    repairs = tuple(r for r in mapped.repairs if r.kind != "boilerplate" and not inside_cut(r))
    clean = mapped.text.strip("\n")
    lead = len(mapped.text) - len(mapped.text.lstrip("\n"))
    starts, ends = mapped.starts[lead : lead + len(clean)], mapped.ends[lead : lead + len(clean)]
    unrepaired = tuple(i - lead for i in _unrepaired(mapped) if lead <= i < lead + len(clean))
    return Text(raw, clean, tuple(starts), tuple(ends), repairs, unrepaired, tuple(cuts))
