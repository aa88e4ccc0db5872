"""A string that remembers, for each character, the stretch of the raw text it came from."""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] by `result`; `kind` says why (pinyin, mojibake, traditional …)."""

    start: int
    end: int
    result: str
    kind: str


@dataclass(frozen=True)
class Repair:
    """One change made to the raw text: what kind, which raw characters, and what they became."""

    kind: str
    raw_start: int
    raw_end: int
    raw: str
    result: str


def raw_span(starts, ends, raw_length: int, start: int, end: int) -> tuple[int, int]:
    """Raw [start, end) of a mapped text's [start, end), given its per-character raw starts and ends."""
    if start >= end:
        point = starts[start] if start < len(starts) else raw_length
        return point, point
    return starts[start], ends[end - 1]


class MappedText:
    """Text plus per-character raw offsets; edits keep the offsets and log a Repair each."""

    def __init__(self, raw: str):
        self.raw = raw
        self.text = raw
        self.starts = list(range(len(raw)))
        self.ends = list(range(1, len(raw) + 1))
        self.repairs: list[Repair] = []

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw [start, end) of the current text's [start, end); an empty span maps to a point."""
        return raw_span(self.starts, self.ends, len(self.raw), start, end)

    def apply(self, edits: Iterable[Edit]) -> None:
        """Apply non-overlapping edits (given in any order) and record one Repair per edit."""
        text, starts, ends = [], [], []
        cursor = 0
        for edit in sorted(edits, key=lambda e: e.start):
            if edit.start < cursor:
                raise ValueError(f"overlapping edit at {edit.start}")
            text.append(self.text[cursor : edit.start])
            starts += self.starts[cursor : edit.start]
            ends += self.ends[cursor : edit.start]
            raw_start, raw_end = self.raw_span(edit.start, edit.end)
            text.append(edit.result)
            if len(edit.result) == edit.end - edit.start:
                # same length: each new character stands for the one it replaces
                starts += self.starts[edit.start : edit.end]
                ends += self.ends[edit.start : edit.end]
            else:
                # a different length: every new character stands for the whole replaced stretch
                starts += [raw_start] * len(edit.result)
                ends += [raw_end] * len(edit.result)
            self.repairs.append(Repair(edit.kind, raw_start, raw_end, self.raw[raw_start:raw_end], edit.result))
            cursor = edit.end
        text.append(self.text[cursor:])
        starts += self.starts[cursor:]
        ends += self.ends[cursor:]
        self.text, self.starts, self.ends = "".join(text), starts, ends
