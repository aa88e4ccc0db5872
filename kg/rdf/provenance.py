"""The provenance graph: NIF text spans of every stated fact, text repairs, source defects and the build activity."""

import re
from collections.abc import Iterator
from datetime import datetime

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDFS, SDO, XSD

import kg
from kg.extract.model import Article, Mention, Span
from kg.manifest import Source
from kg.rdf import iris
from kg.rdf.namespace import NIF, PAV, PKG
from kg.rdf.triples import Triples
from kg.text.normalize import Text

_SHA256 = re.compile(r"[0-9a-f]{64}")
_HAN = re.compile(r"[\u4e00-\u9fff]")

# zh / en names of the kinds the normaliser and the extractor report; an unknown kind is labelled by its code
REPAIR_KINDS = {
    "pinyin": ("删除拼音注音", "pinyin annotation removed"),
    "mojibake": ("乱码重新解码", "mojibake re-decoded"),
    "traditional": ("繁体转简体", "traditional characters simplified"),
    "punctuation": ("标点规范化", "punctuation normalised"),
    "whitespace": ("空白规范化", "whitespace normalised"),
}
SOURCE_KINDS = {"news report": PKG.NewsReport, "official text": PKG.OfficialText,
                "outline of the official text": PKG.OfficialOutline}
DEFECT_KINDS = {
    "repeated-sentence": ("重复的句子", "repeated sentence"),
    "repeats-headline": ("重复所在方面标题的任务", "task repeating its area's headline"),
}


def provenance_triples(article: Article, text: Text, *, base: str, build_time: datetime,
                       input_sha256: str, plan_slug: str | None = None) -> set[tuple]:
    """Spans, repairs, defects and the build of one source, as triples for the provenance graph; the plan's parts are
    named by `plan_slug` (default: the source's own slug), the source's text and spans by the source's slug."""
    if not _SHA256.fullmatch(input_sha256):
        raise ValueError(f"input_sha256 must be 64 lower-case hex digits: {input_sha256!r}")
    out, slug = Triples(base), article.slug
    context = iris.context_iri(base, slug, len(text.clean))
    plan_slug = plan_slug or slug
    for subject, span in stated(article, base=base, plan_slug=plan_slug):
        _span(out, subject, PKG.span, span, text, context, base, slug)
    _context(out, context, text, base, slug)
    for defect in article.defects:
        d = iris.defect_iri(base, slug, defect.area_number, defect.position)
        zh, en = DEFECT_KINDS.get(defect.kind, (defect.kind, defect.kind))
        out.typed(d, PKG.SourceDefect, (PROV.Entity,))
        out.label(d, f"{zh}（{defect.area_number}.{defect.position}）", en=f"{en} ({defect.area_number}.{defect.position})")
        out.add(d, PKG.defectKind, Literal(defect.kind))
        out.add(d, PKG.ordinal, Literal(defect.position))
        out.add(d, PKG.affects, iris.task_area_iri(base, plan_slug, defect.area_number))
        if defect.note:
            out.add(d, RDFS.comment, Literal(defect.note, lang="zh" if _HAN.search(defect.note) else "en"))
        _span(out, d, PKG.span, defect.span, text, context, base, slug)
        _span(out, d, PKG.duplicates, defect.duplicates, text, context, base, slug)
    raw = iris.raw_iri(base, slug)
    for repair in text.repairs:
        r = iris.repair_iri(base, slug, repair.kind, repair.raw_start, repair.raw_end)
        zh, en = REPAIR_KINDS.get(repair.kind, (repair.kind, repair.kind))
        out.typed(r, PKG.Repair, (PROV.Activity,))
        out.label(r, f"{zh}（{repair.raw_start}–{repair.raw_end}）", en=f"{en} ({repair.raw_start}–{repair.raw_end})")
        out.add(r, PKG.repairKind, Literal(repair.kind))
        out.add(r, PKG.rawStart, Literal(repair.raw_start))
        out.add(r, PKG.rawEnd, Literal(repair.raw_end))
        # the raw words stay in the article as received (raw offsets + its SHA-256): no literal of the graph holds
        # pinyin or traditional characters; what the repair produced, unless it only removed, is a clean-text span
        start, end = text.clean_span(repair.raw_start, repair.raw_end)
        if start < end:
            _span(out, r, PKG.span, Span(start, end, text.clean[start:end]), text, context, base, slug)
        out.add(r, PROV.used, raw)
    _build(out, base, slug, context, build_time, input_sha256)
    return out.triples


def source_description(source: Source, kind: str, slug: str, *, base: str) -> set[tuple]:
    """A source's graph described: the document it was derived from, its kind, where and when it was read, its
    licence note; what the manifest does not say is left out."""
    out, g = Triples(base), iris.source_graph_iri(base, slug)
    out.typed(g, PROV.Entity)
    out.label(g, f"来源：{slug}", en=f"source: {slug}")
    out.add(g, PROV.wasDerivedFrom, iris.article_iri(base, slug))
    out.add(g, DCTERMS.type, SOURCE_KINDS[kind])
    for url in source.urls:
        out.add(g, PAV.retrievedFrom, URIRef(url))
    if source.retrieved is not None:
        out.add(g, PAV.retrievedOn, Literal(source.retrieved.isoformat(), datatype=XSD.date))
    if source.licence:
        out.add(g, DCTERMS.rights, Literal(source.licence, lang="en"))
    return out.triples


def stated(article: Article, *, base: str, plan_slug: str | None = None) -> Iterator[tuple[URIRef, Span]]:
    """(resource, span) for every resource the source states and every place or agency it names."""
    slug, plan, news = plan_slug or article.slug, article.plan, article.news
    p = iris.plan_iri(base, slug)
    yield from ((p, s) for s in (plan.title_span, plan.short_name_span, plan.period_span, plan.areas_stated_span,
                                 plan.document_number, plan.date_signed_span) if s is not None)
    # a stated count that differs from the named agencies is a warning of the extraction; its words stay traceable
    yield from ((p, w.span) for w in article.warnings)
    if plan.outlook is not None:
        yield p, plan.outlook
    if plan.aim_span is not None:
        yield iris.aim_iri(base, slug), plan.aim_span
    mentions: list[Mention] = [*plan.issuers, *([news.source] if news.source else [])]
    for goal in plan.goals:
        yield iris.goal_iri(base, slug, goal.number), goal.span
        mentions += goal.mentions
    for measure in plan.measures:
        yield iris.measure_iri(base, slug, measure.number), measure.span
    for area in plan.areas:
        a = iris.task_area_iri(base, slug, area.number)
        yield from ((a, s) for s in (area.span, area.headline_span, area.short_name_span) if s is not None)
        mentions += [*area.regions, *area.mentions]
        for task in area.tasks:
            yield iris.task_iri(base, slug, task.area_number, task.number), task.span
            mentions += task.mentions
    for number, claim in enumerate(article.claims, start=1):
        yield from ((iris.claim_iri(base, slug, number), s) for s in claim.spans)
        mentions += claim.mentions
    n = iris.article_iri(base, article.slug)
    yield from ((n, s) for s in (news.title_span, news.published_span, news.author_span, news.site_span,
                                 news.lede, news.context, plan.notice_title) if s is not None)
    yield from ((iris.mention_iri(base, m), m.span) for m in mentions)


def _span(out: Triples, subject: URIRef, relation: URIRef, span: Span, text: Text, context: URIRef,
          base: str, slug: str) -> None:
    """Link a resource to a NIF span of the clean text; refuses a span whose quote is not the text there."""
    if text.clean[span.start:span.end] != span.quote:
        raise ValueError(f"span {span.start},{span.end} quotes {span.quote!r} but the text there is "
                         f"{text.clean[span.start:span.end]!r}")
    s = iris.span_iri(base, slug, span)
    out.add(subject, relation, s)
    out.typed(s, NIF.OffsetBasedString)
    out.add(s, NIF.beginIndex, Literal(span.start, datatype=XSD.nonNegativeInteger))
    out.add(s, NIF.endIndex, Literal(span.end, datatype=XSD.nonNegativeInteger))
    out.add(s, NIF.anchorOf, Literal(span.quote))
    out.add(s, NIF.referenceContext, context)


def _context(out: Triples, context: URIRef, text: Text, base: str, slug: str) -> None:
    """The whole clean text as the NIF context every span refers to."""
    out.typed(context, NIF.Context, (NIF.OffsetBasedString,))
    out.add(context, NIF.isString, Literal(text.clean))
    out.add(context, NIF.beginIndex, Literal(0, datatype=XSD.nonNegativeInteger))
    out.add(context, NIF.endIndex, Literal(len(text.clean), datatype=XSD.nonNegativeInteger))
    out.add(context, NIF.sourceUrl, iris.article_iri(base, slug))
    out.add(context, PROV.wasDerivedFrom, iris.raw_iri(base, slug))
    out.add(context, PROV.wasGeneratedBy, iris.build_iri(base, slug))


def _build(out: Triples, base: str, slug: str, context: URIRef, build_time: datetime, sha256: str) -> None:
    """The build as a PROV activity: when it ended, what it used, which software version ran it."""
    b, raw, software = iris.build_iri(base, slug), iris.raw_iri(base, slug), iris.software_iri(base)
    out.typed(b, PROV.Activity)
    out.label(b, f"policykg 构建：{slug}", en=f"policykg build of {slug}")
    out.add(b, PROV.endedAtTime, Literal(build_time.isoformat(), datatype=XSD.dateTime))
    out.add(b, PROV.used, raw)
    out.add(b, PROV.wasAssociatedWith, software)
    out.typed(raw, PROV.Entity)
    out.label(raw, f"接收时的文章原文：{slug}", en=f"article as received: {slug}")
    out.add(raw, PKG.sha256, Literal(sha256, datatype=XSD.hexBinary))
    out.typed(software, PROV.SoftwareAgent, (SDO.SoftwareApplication,))
    out.label(software, "policykg", en="policykg")
    out.add(software, SDO.softwareVersion, Literal(kg.__version__))
    for graph in (iris.graph_iri(base, "kg"), iris.graph_iri(base, "provenance"), iris.source_graph_iri(base, slug)):
        out.add(graph, PROV.wasGeneratedBy, b)
