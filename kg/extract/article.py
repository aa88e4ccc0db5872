"""Clean article text → kg.extract.model.Article, from the patterns of Chinese policy reporting (kg/sources/genre.toml)."""

import re
from datetime import datetime, timedelta, timezone

from kg.extract import gazetteer
from kg.extract.areas import extract_area, pieces, span
from kg.extract.model import Article, Claim, Goal, Measure, Mention, NewsItem, Plan, Span
from kg.extract.numbers import chinese_number
from kg.text.normalize import Text, genre


class ExtractionError(ValueError):
    """The text does not read as a report of a policy plan, or contradicts itself."""


def _search(pattern: str, text: str, start: int = 0, end: int | None = None, *, what: str) -> re.Match:
    match = re.compile(pattern, re.M).search(text, start, len(text) if end is None else end)
    if not match:
        raise ExtractionError(f"no {what} found")
    return match


def _group_span(match: re.Match, group: str) -> Span:
    return Span(match.start(group), match.end(group), match.group(group))


def _paragraphs(clean: str) -> list[Span]:
    return [span(clean, m.start(), m.end()) for m in re.finditer(r"[^\n]+", clean) if m.group().strip()]


def _agency(name: str, at: Span) -> Mention:
    item = gazetteer.lookup(name)
    if item is None or item.kind != "agency":
        raise ExtractionError(f"unknown agency {name!r} at {at.start}; add it to kg/sources/gazetteer.csv")
    return Mention("agency", item.key, name, at)


def _news(text: Text, paragraphs: list[Span]) -> NewsItem:
    clean, news = text.clean, genre()["news"]
    title, dateline = paragraphs[0], paragraphs[1]
    when = _search(r"(?P<when>\d{4})年(\d{1,2})月(\d{1,2})日\s+(\d{1,2}):(\d{2}):(\d{2})", clean, dateline.start, dateline.end,
                   what="publication date")
    sign, hours, minutes = news["published_zone"][0], *map(int, news["published_zone"][1:].split(":"))
    zone = timezone((1 if sign == "+" else -1) * timedelta(hours=hours, minutes=minutes))
    published = datetime(*map(int, when.groups()), tzinfo=zone)
    published_span = Span(when.start(), when.end(), when.group())
    source = _search(rf"{news['source_label']}：(?P<name>\S+)", clean, dateline.start, dateline.end, what="source")
    author = _search(rf"{news['author_label']}：(?P<name>\S+)", clean, dateline.start, dateline.end, what="author")
    site = _search(news["site_tag"], clean, what="site tag 【…】")
    body = next(p for p in paragraphs if p.start <= site.start() < p.end)
    lede = span(clean, dateline.end, body.start)
    context_end = clean.find("。", site.end(), body.end) + 1
    return NewsItem(title.quote, title, published, published_span, _agency(source.group("name"), _group_span(source, "name")),
                    author.group("name"), _group_span(author, "name"), site.group("site"), _group_span(site, "site"),
                    lede, span(clean, site.end(), context_end))


def _period(title: str, title_span: Span) -> tuple[str, int, int, Span]:
    plans = genre()["five_year_plans"]
    match = _search(plans["name_pattern"], title, what="five-year plan in the title")
    number = chinese_number(match.group("number"))
    start = plans["anchor_start"] + 5 * (number - plans["anchor_number"])
    at = title_span.start + match.start()
    return match.group(), start, start + 4, Span(at, at + len(match.group()), match.group())


def _goals(clean: str) -> tuple[int, list[Span], Span]:
    """The target year, one span per goal clause, and the aim clause the goals support."""
    match = _search(genre()["plan"]["goal_sentence"], clean, what="goal sentence (到20XX年，…)")
    clauses = pieces(clean, match.start("body"), match.end("body"), "，")
    marker = genre()["plan"]["aim_marker"]
    aims = [c for c in clauses if c.quote.startswith(marker)]
    if len(aims) != 1:
        raise ExtractionError(f"expected one aim clause starting with {marker} in the goal sentence, found {len(aims)}")
    aim = Span(aims[0].start + len(marker), aims[0].end, aims[0].quote[len(marker):])
    return int(match.group("year")), [c for c in clauses if c is not aims[0]], aim


def _goal(clean: str, number: int, at: Span, year: int) -> Goal:
    """A goal clause with the places it names (西部地区 …)."""
    return Goal(number, at.quote, at, year, tuple(gazetteer.find_mentions(clean, at.start, at.end)))


def _measures(clean: str) -> list[Measure]:
    match = _search(genre()["plan"]["measures"], clean, what="guarantee measures (保障措施)")
    return [Measure(n, s.quote, s) for n, s in enumerate(pieces(clean, match.start("body"), match.end("body"), "，"), 1)]


def _lede_claims(clean: str, lede: Span, areas) -> list[Claim]:
    """The lede's statement is the article's highlight of a task: the clauses after the task's words are a claim."""
    for area in areas:
        for task in area.tasks:
            if lede.quote.startswith(task.text + "，"):
                extra = span(clean, lede.start + len(task.text) + 1, lede.end - lede.quote.endswith("。"))
                mentions = tuple(gazetteer.find_mentions(clean, extra.start, extra.end))
                return [Claim(extra.quote, (extra,), (area.number, task.number), mentions)]
    return []


def _merge_claims(claims: list[Claim]) -> list[Claim]:
    """One claim per (task, words), with every place the article says it."""
    merged: dict[tuple, Claim] = {}
    for claim in claims:
        key = (claim.task, claim.text)
        old = merged.get(key)
        merged[key] = claim if old is None else Claim(claim.text, tuple(sorted(old.spans + claim.spans, key=lambda s: s.start)),
                                                      claim.task, old.mentions)
    return list(merged.values())


def extract(text: Text, *, slug: str) -> Article:
    """Everything the article says about the plan it reports."""
    clean, patterns = text.clean, genre()["plan"]
    paragraphs = _paragraphs(clean)
    if len(paragraphs) < 3:
        raise ExtractionError("the text is too short to be a policy news article")
    news = _news(text, paragraphs)
    issued = _search(patterns["issuers"], clean, news.context.end, what="issuing agencies (…等N部门印发《…》)")
    issuers = tuple(_agency(s.quote, s) for s in pieces(clean, issued.start("list"), issued.end("list"), "、"))
    if len(issuers) != chinese_number(issued.group("count")):
        raise ExtractionError(f"the article says {issued.group('count')} agencies but names {len(issuers)}")
    title_span = _group_span(issued, "title")
    short = _search(patterns["short_name"], clean, issued.end(), what="short name (以下简称《…》)")
    period_name, period_start, period_end, period_span = _period(title_span.quote, title_span)
    target_year, goal_spans, aim = _goals(clean)
    goals = tuple(_goal(clean, n, s, target_year) for n, s in enumerate(goal_spans, 1))
    summary = _search(patterns["summary"], clean, what="summary of task areas (从…等N个方面)")
    area_paragraphs = [p for p in paragraphs if re.match(patterns["area_ordinal"], p.quote)]
    areas, defects, claims = [], [], []
    for paragraph in area_paragraphs:
        area, area_defects, area_claims = extract_area(text, paragraph)
        areas.append(area)
        defects += area_defects
        claims += area_claims
    if [a.number for a in areas] != list(range(1, len(areas) + 1)):
        raise ExtractionError(f"task areas are not numbered 1…n: {[a.number for a in areas]}")
    stated = chinese_number(summary.group("count"))
    if stated != len(areas):
        raise ExtractionError(f"the summary says {stated} task areas but the body has {len(areas)}")
    claims = _merge_claims(claims + _lede_claims(clean, news.lede, areas))
    outlook = next((p for p in paragraphs if re.match(patterns["outlook"], p.quote)), None)
    plan = Plan(title_span.quote, title_span, short.group("short"), _group_span(short, "short"), issuers,
                chinese_number(issued.group("count")), period_name, period_start, period_end, period_span, target_year,
                aim.quote, aim, goals, stated, _group_span(summary, "count"), tuple(areas), tuple(_measures(clean)), outlook)
    return Article(slug, news, plan, tuple(claims), tuple(defects))
