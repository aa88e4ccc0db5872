"""The task areas of a plan in the genre's layouts (一是…十是, ——实施…，主要内容包括…, 一、/（一）/1.): where each stands,
then its headline, short name, target regions, tasks and source defects."""

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Block:
    """Where one task area stands in the text, before it is read: its heading and its task pieces as printed."""

    number: int
    ordinal: str  # "一是", "（一）", "——"
    span: Span  # the whole area: a paragraph, a stretch of one, or a heading with its items
    head: Span  # the heading sentence: 实施“科技援X”，… (the programme, then the objective)
    tasks: tuple[Span, ...]


def _first_boundary(text: Text, start: int, end: int) -> int:
    """End of the first sentence: its first 。, or a character lost to mojibake standing there."""
    candidates = [i for i in text.unrepaired if start <= i < end]
    stop = text.clean.find("。", start, end)
    if stop >= 0:
        candidates.append(stop)
    return min(candidates, default=end)


def _trimmed_end(clean: str, start: int, end: int) -> int:
    """`end` moved back over spaces and the separators that close a list item (；。，)."""
    while end > start and (clean[end - 1].isspace() or clean[end - 1] in "；。，"):
        end -= 1
    return end


def _sentence_block(text: Text, number: int, ordinal: str, whole: Span, body_start: int) -> Block:
    """An area printed as a heading sentence then tasks (一是实施…，…。A；B。), or, with no sentence end before its own
    end, as clauses (一是加强…，A，B；): the first clause heads it, the others are its tasks."""
    clean = text.clean
    end = _trimmed_end(clean, body_start, whole.end)
    boundary = _first_boundary(text, body_start, end)
    if boundary < end:
        return Block(number, ordinal, whole, span(clean, body_start, boundary),
                     tuple(pieces(clean, boundary + 1, whole.end, "；。")))
    clauses = pieces(clean, body_start, end, "，；")
    return Block(number, ordinal, whole, clauses[0], tuple(clauses[1:]))


def ordinal_blocks(text: Text, paragraphs: list[Span]) -> list[Block]:
    """Areas numbered 一是 … 十是, one per paragraph or several inline in one paragraph; the first run 1, 2, 3 … wins."""
    pattern = re.compile(genre()["plan"]["area_ordinal"], re.M)
    starts: list[tuple[Span, re.Match]] = []
    for paragraph in paragraphs:
        for match in pattern.finditer(paragraph.quote):
            if chinese_number(match.group("number")) == len(starts) + 1:
                starts.append((paragraph, match))
    blocks = []
    for i, (paragraph, match) in enumerate(starts):
        following = starts[i + 1] if i + 1 < len(starts) else None
        end = paragraph.start + following[1].start() if following and following[0] is paragraph else paragraph.end
        whole = span(text.clean, paragraph.start + match.start(), end)
        blocks.append(_sentence_block(text, i + 1, match.group("ordinal"), whole, paragraph.start + match.end()))
    return blocks


def dash_blocks(text: Text, paragraphs: list[Span]) -> list[Block]:
    """Areas printed as actions, one per line: ——实施…行动，主要内容包括A、B、C等。"""
    plan, clean = genre()["plan"], text.clean
    blocks = []
    for paragraph in paragraphs:
        match = re.match(plan["area_dash"], paragraph.quote)
        if not match:
            continue
        at = paragraph.start
        items = pieces(clean, at + match.start("list"), at + match.end("list"), "、；，")
        trailer = re.search(plan["area_dash_trailer"], items[-1].quote) if items else None
        if trailer:  # the closing 等 is not part of the last item
            items[-1] = span(clean, items[-1].start, items[-1].start + trailer.start())
        head = span(clean, at + match.start("headline"), at + match.end("headline"))
        blocks.append(Block(len(blocks) + 1, "——", paragraph, head, tuple(i for i in items if i.quote)))
    return blocks


def sections(paragraphs: list[Span], words: list[str]) -> list[list[Span]]:
    """The paragraphs under each official section heading (一、重点任务) that holds one of `words`."""
    pattern = re.compile(genre()["plan"]["section"])
    found, current = [], None
    for paragraph in paragraphs:
        heading = pattern.match(paragraph.quote)
        if heading:
            current = [] if any(w in heading.group("heading") for w in words) else None
            if current is not None:
                found.append(current)
        elif current is not None:
            current.append(paragraph)
    return found


def official_blocks(text: Text, paragraphs: list[Span]) -> list[Block]:
    """Areas of an official text: the （一） headings under a 重点任务 section, each with its 1. 2. … items."""
    plan, clean = genre()["plan"], text.clean
    blocks: list[Block] = []
    for section in sections(paragraphs, plan["task_sections"]):
        heads: list[tuple[Span, re.Match, list[Span]]] = []
        for paragraph in section:
            sub = re.match(plan["subsection"], paragraph.quote)
            item = re.match(plan["item"], paragraph.quote)
            if sub:
                heads.append((paragraph, sub, []))
            elif item and heads:
                start = paragraph.start + item.end()
                heads[-1][2].append(span(clean, start, _trimmed_end(clean, start, paragraph.end)))
        for paragraph, sub, items in heads:
            number = len(blocks) + 1
            body_start = paragraph.start + sub.end()
            if not items:  # a heading sentence with its tasks in the same paragraph
                blocks.append(_sentence_block(text, number, sub.group(), paragraph, body_start))
                continue
            head = span(clean, body_start, _first_boundary(text, body_start, paragraph.end))
            whole = span(clean, paragraph.start, items[-1].end)
            blocks.append(Block(number, sub.group(), whole, head, tuple(items)))
    return blocks


def find_blocks(text: Text, paragraphs: list[Span]) -> list[Block]:
    """The task areas in whichever layout the source uses: official numbering, then 一是…, then ——."""
    for finder in (official_blocks, ordinal_blocks, dash_blocks):
        blocks = finder(text, paragraphs)
        if blocks:
            return blocks
    return []


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


def extract_area(text: Text, block: Block) -> tuple[TaskArea, list[Defect], list[Claim]]:
    """One task area → the area, its defects, and the claims it attaches to its tasks."""
    clean, number, first = text.clean, block.number, block.head
    clauses = pieces(clean, first.start, first.end, "，")
    named = re.search(genre()["plan"]["area_short_name"], clauses[0].quote)
    if named:
        at = clauses[0].start + named.start("short")
        short_span = Span(at, at + len(named.group("short")), named.group("short"))
    else:  # an area without a quoted programme name is named by its first clause (深化跨区域结对合作)
        short_span = clauses[0]
    headline = span(clean, clauses[1].start, first.end) if len(clauses) > 1 else first
    tasks, defects, claims = [], [], []
    for position, piece in enumerate(block.tasks, start=1):
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
    mentions = _mentions(clean, block.span)
    area = TaskArea(number, block.ordinal, short_span.quote, short_span, headline.quote, headline, block.span,
                    _regions(short_span.quote, list(mentions), short_span if named else None), mentions, tuple(tasks))
    return area, defects, claims
