"""Clean source text → kg.extract.model.Article, from the patterns of Chinese policy reporting (kg/sources/genre.toml).

A part the source does not print (site tag, author, goals, measures, period, summary …) is left out, never guessed.
"""

import re
from datetime import date, datetime, timedelta, timezone

from kg.extract import agencies, gazetteer
from kg.extract.areas import extract_area, find_blocks, pieces, sections, span
from kg.extract.model import Article, Claim, Discrepancy, Goal, Measure, Mention, NewsItem, Plan, Span
from kg.extract.numbers import chinese_number
from kg.text.normalize import Text, genre


class ExtractionError(ValueError):
    """The text does not read as a report of a policy plan, or contradicts itself."""


def _search(pattern: str, text: str, start: int = 0, end: int | None = None) -> re.Match | None:
    return re.compile(pattern, re.M).search(text, start, len(text) if end is None else end)


def _group_span(match: re.Match, group: str) -> Span:
    return Span(match.start(group), match.end(group), match.group(group))


def _paragraphs(clean: str) -> list[Span]:
    return [span(clean, m.start(), m.end()) for m in re.finditer(r"[^\n]+", clean) if m.group().strip()]


def _agency(name: str, at: Span) -> Mention:
    """The agency an issuer name denotes; an unknown name is an error that names it and the closest agencies."""
    agency = agencies.resolve(name)
    if agency is None:
        close = ", ".join(f"{a.name_zh} ({a.key})" for a in agencies.candidates(name)) or "none"
        raise ExtractionError(f"unknown agency {name!r} at {at.start}; closest: {close}")
    return Mention("agency", agency.key, name, at)


def _zone() -> timezone:
    stated = genre()["news"]["published_zone"]
    sign, (hours, minutes) = stated[0], map(int, stated[1:].split(":"))
    return timezone((1 if sign == "+" else -1) * timedelta(hours=hours, minutes=minutes))


def _when(match: re.Match) -> datetime | date:
    """A datetime in the sites' time zone when the source prints a time, else the date alone."""
    day = tuple(int(match.group(g)) for g in ("year", "month", "day"))
    if match.group("hour") is None:
        return date(*day)
    return datetime(*day, int(match.group("hour")), int(match.group("minute")), int(match.group("second") or 0),
                    tzinfo=_zone())


def _published(clean: str, header: list[Span]) -> re.Match | None:
    """The earliest date in the header paragraphs, in any of the genre's date layouts."""
    found = [m for p in header for pattern in genre()["news"]["dates"] if (m := _search(pattern, clean, p.start, p.end))]
    return min(found, key=lambda m: m.start(), default=None)


def _labelled(label: str, clean: str, line: Span) -> re.Match | None:
    return _search(rf"{label}：(?P<name>\S+)", clean, line.start, line.end)


def _title(paragraphs: list[Span], notice: re.Match | None) -> Span:
    """The document's title: an official text's notice title (关于印发《…》的通知), else the first line."""
    return next(p for p in paragraphs if p.start <= notice.start() < p.end) if notice else paragraphs[0]


def _header(clean: str, paragraphs: list[Span], title: Span) -> tuple[re.Match | None, Span | None, int]:
    """The publication date, the date line it stands in, and where the header (title and date line) ends."""
    header = [p for p in paragraphs[: genre()["news"]["header_paragraphs"]] if p != title]
    when = _published(clean, header)
    dateline = next((p for p in header if when and p.start <= when.start() < p.end), None)
    return when, dateline, max(title.end, dateline.end if dateline else 0)


def _document(text: Text, paragraphs: list[Span], title: Span, header: tuple[re.Match | None, Span | None, int],
              issued: re.Match | None, official: bool) -> NewsItem:
    """The source document's own parts: title, date, source, author, site, lede and context, where printed."""
    clean, news = text.clean, genre()["news"]
    when, dateline, header_end = header
    source = author = None
    if dateline:
        source, author = _labelled(news["source_label"], clean, dateline), _labelled(news["author_label"], clean, dateline)
    # a site tag opens the report's body, before its issuer sentence (a 【…】 further down is something else)
    site = _search(news["site_tag"], clean, header_end, issued.start()) if issued and not official else None
    lede = context = None
    anchor = site.start() if site else issued.start() if issued and not official else None
    if anchor is not None:
        body = next(p for p in paragraphs if p.start <= anchor < p.end)
        lede = span(clean, header_end, body.start) if body.start > header_end else None
        start = site.end() if site else body.start
        stop = clean.find("。", start, body.end)
        if stop >= 0 and (issued is None or not start <= issued.start() <= stop):  # the issuer sentence is no context
            context = span(clean, start, stop + 1)
    return NewsItem(
        title.quote, title,
        _when(when) if when else None, _group_span(when, 0) if when else None,
        _agency_or_none(source), author.group("name") if author else None,
        _group_span(author, "name") if author else None,
        site.group("site") if site else None, _group_span(site, "site") if site else None,
        lede if lede and lede.quote else None, context, "official" if official else "news",
    )


def _agency_or_none(source: re.Match | None) -> Mention | None:
    """The stated source (来源) as an agency; a source that names no agency (a website, a newspaper) is left out."""
    if source is None or agencies.resolve(source.group("name")) is None:
        return None
    return _agency(source.group("name"), _group_span(source, "name"))


def _issued(clean: str, start: int) -> re.Match | None:
    """The first issuer sentence after the header, in the first of the genre's layouts that matches."""
    found = [m for pattern in genre()["plan"]["issuers"] if (m := _search(pattern, clean, start))]
    return min(found, key=lambda m: m.start(), default=None)


def _signature(clean: str, paragraphs: list[Span]) -> tuple[list[Span], re.Match] | None:
    """The signature block of an official notice: the agency lines just above a date line of their own."""
    pattern = re.compile(genre()["plan"]["signature_date"])
    for i, paragraph in enumerate(paragraphs):
        dated = pattern.fullmatch(clean, paragraph.start, paragraph.end)
        if not dated:
            continue
        lines: list[Span] = []
        for above in reversed(paragraphs[:i]):
            if len(above.quote) > 20 or re.search(r"[，。：；、,.:;]", above.quote):
                break  # a sentence, a salutation (各有关单位：): the block ends there
            lines.insert(0, above)
        if lines:
            return lines, dated
    return None


def _period(title: str, title_span: Span) -> tuple[str, int, int, Span] | None:
    plans = genre()["five_year_plans"]
    match = _search(plans["name_pattern"], title)
    if not match:
        return None
    number = chinese_number(match.group("number"))
    start = plans["anchor_start"] + 5 * (number - plans["anchor_number"])
    at = title_span.start + match.start()
    return match.group(), start, start + 4, Span(at, at + len(match.group()), match.group())


def _goals(clean: str, outside: list[Span]) -> tuple[list[Goal], Span | None]:
    """Every 到20XX年 goal sentence outside the task areas, one goal per clause, and the aim clause they support."""
    plan = genre()["plan"]
    goals, aims = [], []
    for match in re.finditer(plan["goal_sentence"], clean):
        if any(a.start <= match.start() < a.end for a in outside):
            continue
        year = int(match.group("year"))
        for clause in pieces(clean, match.start("body"), match.end("body"), "，；"):
            if clause.quote.startswith(plan["aim_marker"]):
                cut = clause.start + len(plan["aim_marker"])
                aims.append(Span(cut, clause.end, clause.quote[len(plan["aim_marker"]):]))
            else:
                goals.append(Goal(len(goals) + 1, clause.quote, clause, year,
                                  tuple(gazetteer.find_mentions(clean, clause.start, clause.end))))
    if len(aims) > 1:
        raise ExtractionError(f"expected at most one aim clause starting with {plan['aim_marker']}, found {len(aims)}")
    return goals, (aims[0] if aims else None)


def _measures(clean: str, paragraphs: list[Span]) -> list[Measure]:
    """Guarantee measures: the report's 在保障措施中…要A，B，C。 or the headings of an official 保障措施 section."""
    plan = genre()["plan"]
    match = _search(plan["measures"], clean)
    if match:
        found = pieces(clean, match.start("body"), match.end("body"), "，")
    else:
        found = []
        for section in sections(paragraphs, plan["measure_sections"]):
            for paragraph in section:
                sub = re.match(plan["subsection"], paragraph.quote)
                if sub:
                    start = paragraph.start + sub.end()
                    stop = clean.find("。", start, paragraph.end)
                    found.append(span(clean, start, stop if stop >= 0 else paragraph.end))
    return [Measure(n, s.quote, s) for n, s in enumerate(found, 1)]


def _lede_claims(clean: str, lede: Span | None, areas) -> list[Claim]:
    """The lede's statement is the article's highlight of a task: the clauses after the task's words are a claim."""
    if lede is None:
        return []
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


def _issuers(clean: str, paragraphs: list[Span], header_end: int, notice: re.Match | None
             ) -> tuple[tuple[Mention, ...], Span | None, Span, re.Match | None, re.Match | None]:
    """(issuers, stated count, plan title, issuer sentence, signature date): an official notice's signature block and
    its title's count, else a report's issuer sentence (A、B等N部门印发《…》, A、B、C N部门联合印发《…》, A印发《…》)."""
    signature = _signature(clean, paragraphs) if notice else None
    if notice and signature:
        lines, dated = signature
        count = _group_span(notice, "count") if notice.group("count") else None
        return tuple(_agency(line.quote, line) for line in lines), count, _group_span(notice, "title"), None, dated
    issued = _issued(clean, header_end)
    if issued is None:
        raise ExtractionError("no issuing agencies found (A、B等N部门印发《…》, A、B N部门联合印发《…》, A印发《…》, "
                              "or a signature block above the date of a notice 关于印发《…》的通知)")
    issuers = tuple(_agency(s.quote, s) for s in pieces(clean, issued.start("list"), issued.end("list"), "、"))
    count = _group_span(issued, "count") if "count" in issued.groupdict() and issued.group("count") else None
    title = _group_span(notice, "title") if notice else _group_span(issued, "title")
    return issuers, count, title, issued, None


def extract(text: Text, *, slug: str) -> Article:
    """Everything the source says about the plan it reports or prints."""
    clean, patterns = text.clean, genre()["plan"]
    paragraphs = _paragraphs(clean)
    if len(paragraphs) < 3:
        raise ExtractionError("the text is too short to be a policy news article")
    head = paragraphs[: genre()["news"]["header_paragraphs"]]
    notice = _search(patterns["notice_title"], clean, head[0].start, head[-1].end)
    title = _title(paragraphs, notice)
    header = _header(clean, paragraphs, title)
    issuers, count, title_span, issued, dated = _issuers(clean, paragraphs, header[2], notice)
    news = _document(text, paragraphs, title, header, issued, official=notice is not None)
    warnings = []
    stated_issuers = chinese_number(count.quote) if count else None
    if stated_issuers is not None and stated_issuers != len(issuers):
        warnings.append(Discrepancy("issuer-count", count, stated_issuers, len(issuers),
                                    f"the source says {stated_issuers} agencies but names {len(issuers)}"))
    short = _search(patterns["short_name"], clean, issued.end() if issued else title_span.end)
    period = _period(title_span.quote, title_span)
    blocks = find_blocks(text, paragraphs)
    areas, defects, claims = [], [], []
    for block in blocks:
        area, area_defects, area_claims = extract_area(text, block)
        areas.append(area)
        defects += area_defects
        claims += area_claims
    goals, aim = _goals(clean, [b.span for b in blocks])
    summary = _search(patterns["summary"], clean)
    stated_areas = chinese_number(summary.group("count")) if summary else None
    if stated_areas is not None and stated_areas != len(areas):
        raise ExtractionError(f"the summary says {stated_areas} task areas but the body has {len(areas)}")
    claims = _merge_claims(claims + _lede_claims(clean, news.lede, areas))
    outlook = next((p for p in paragraphs if re.match(patterns["outlook"], p.quote)), None)
    years = {g.target_year for g in goals}
    number = _search(patterns["document_number"], clean)
    plan = Plan(
        title_span.quote, title_span, short.group("short") if short else None, _group_span(short, "short") if short else None,
        issuers, stated_issuers, *(period or (None, None, None, None)), years.pop() if len(years) == 1 else None,
        aim.quote if aim else None, aim, tuple(goals), stated_areas, _group_span(summary, "count") if summary else None,
        tuple(areas), tuple(_measures(clean, paragraphs)), outlook,
        _group_span(number, "number") if number else None, _group_span(notice, 0) if notice else None,
        date(*(int(dated.group(g)) for g in ("year", "month", "day"))) if dated else None,
        _group_span(dated, 0) if dated else None,
    )
    return Article(slug, news, plan, tuple(claims), tuple(defects), tuple(warnings))
