"""The task areas (一是 … 七是) of a plan: headline, short name, target regions, sub-tasks and source defects."""

import re

from kg.extract import gazetteer
from kg.extract.model import Claim, Defect, Mention, Span, Task, TaskArea
from kg.extract.numbers import chinese_number
from kg.text.normalize import Text, genre


def span(text: str, start: int, end: int) -> Span:
    """The Span of text[start:end], trimmed of spaces."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end, text[start:end])


def pieces(text: str, start: int, end: int, separators: str) -> list[Span]:
    """The non-empty stretches of text[start:end] between separator characters."""
    found, cursor = [], start
    for i in range(start, end + 1):
        if i == end or text[i] in separators:
            if i > cursor:
                found.append(span(text, cursor, i))
            cursor = i + 1
    return [piece for piece in found if piece.quote]


def _first_boundary(text: Text, start: int, end: int) -> int:
    """End of a paragraph's first sentence: its first 。, or a character lost to mojibake standing there."""
    candidates = [i for i in text.unrepaired if start <= i < end]
    stop = text.clean.find("。", start, end)
    if stop >= 0:
        candidates.append(stop)
    return min(candidates, default=end)


def _regions(short_name: str, mentions: list[Mention], short_span: Span | None) -> tuple[Mention, ...]:
    """Province-level regions an area targets: the one its short name abbreviates, then those it names."""
    found: dict[str, Mention] = {}
    if short_name and short_span:
        region = gazetteer.by_abbreviation(short_name[-1])
        if region:
            at = short_span.end - 1
            found[region.key] = Mention("region", region.key, short_name[-1], Span(at, at + 1, short_name[-1]))
    for mention in mentions:
        if mention.kind == "region" and gazetteer.entry("region", mention.key).is_province:
            found.setdefault(mention.key, mention)
    return tuple(found.values())


def _abbreviated_mentions(clean: str, start: int, end: int) -> list[Mention]:
    """Regions named only by their abbreviation inside a quoted programme name, e.g. “科技入黔” → 贵州."""
    found = []
    for match in re.finditer(genre()["plan"]["area_short_name"], clean[start:end]):
        char_at = start + match.end("short") - 1
        region = gazetteer.by_abbreviation(clean[char_at])
        if region:
            found.append(Mention("region", region.key, clean[char_at], Span(char_at, char_at + 1, clean[char_at])))
    return found


def _mentions(clean: str, piece: Span) -> tuple[Mention, ...]:
    found = gazetteer.find_mentions(clean, piece.start, piece.end) + _abbreviated_mentions(clean, piece.start, piece.end)
    return tuple(sorted(found, key=lambda m: m.span.start))


def extract_area(text: Text, paragraph: Span) -> tuple[TaskArea, list[Defect], list[Claim]]:
    """One task area paragraph → the area, its defects, and the claims it attaches to its tasks."""
    clean = text.clean
    match = re.match(genre()["plan"]["area_ordinal"], paragraph.quote)
    number = chinese_number(match.group("number"))
    body_start = paragraph.start + match.end()
    boundary = _first_boundary(text, body_start, paragraph.end)
    first = span(clean, body_start, boundary)  # 实施“科技援疆”，塑造新疆创新发展优势
    clauses = pieces(clean, first.start, first.end, "，")
    named = re.search(genre()["plan"]["area_short_name"], clauses[0].quote)
    if named:
        at = clauses[0].start + named.start("short")
        short_span = Span(at, at + len(named.group("short")), named.group("short"))
    else:  # an area without a quoted programme name is named by its first clause (深化跨区域结对合作)
        short_span = clauses[0]
    headline = span(clean, clauses[1].start, first.end) if len(clauses) > 1 else first
    tasks, defects, claims = [], [], []
    for position, piece in enumerate(pieces(clean, boundary + 1, paragraph.end, "；。"), start=1):
        earlier = next((t for t in tasks if piece.quote == t.text or piece.quote.startswith(t.text + "，")), None)
        if piece.quote == first.quote:
            defects.append(Defect("repeats-headline", piece, first, number, position,
                                  "a sub-task that repeats its own area's headline sentence"))
        elif earlier and piece.quote == earlier.text:
            defects.append(Defect("repeated-sentence", piece, earlier.span, number, position,
                                  f"repeats task {number}.{earlier.number} word for word"))
        elif earlier:
            extra = span(clean, piece.start + len(earlier.text) + 1, piece.end)
            defects.append(Defect("repeated-sentence", piece, earlier.span, number, position,
                                  f"repeats task {number}.{earlier.number} and adds a clause, attached to it as a claim"))
            claims.append(Claim(extra.quote, (extra,), (number, earlier.number), _mentions(clean, extra)))
        else:
            tasks.append(Task(number, position, piece.quote, piece, _mentions(clean, piece)))
    mentions = _mentions(clean, paragraph)
    area = TaskArea(number, match.group("ordinal"), short_span.quote, short_span, headline.quote, headline, paragraph,
                    _regions(short_span.quote, list(mentions), short_span if named else None), mentions, tuple(tasks))
    return area, defects, claims
