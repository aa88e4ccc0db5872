"""The article page: clean text with every fact's span highlighted and linked, raw text with repairs marked, defects."""

import hashlib
import re

from flask import request
from markupsafe import Markup, escape

from kg.manifest import shipped
from kg.paths import SOURCES
from kg.rdf import namespace
from server.web import pages

PKG = pages.VOCAB
NIF = str(namespace.NIF)
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SPAN = re.compile(r"(\d+),(\d+)")


def is_article(iri: str) -> bool:
    """True for {base}doc/article/{slug} itself (not its /raw, repairs or defects)."""
    return re.fullmatch(re.escape(pages.base()) + r"doc/article/[a-z0-9-]+", iri) is not None


def _int(term) -> int:
    return int(term.value)


def _segments(length: int, ranges: list[tuple[int, int, object]]):
    """Cut [0, length) at every range boundary; yield (start, end, ranges covering it, innermost first)."""
    cuts = sorted({0, length, *(b for b, _, _ in ranges), *(e for _, e, _ in ranges)})
    cuts = [c for c in cuts if 0 <= c <= length]
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = [r for r in ranges if r[0] <= start and r[1] >= end]
        covering.sort(key=lambda r: r[1] - r[0])
        yield start, end, covering


def highlighted(text: str, spans: list[tuple[int, int, dict]], selected: tuple[int, int] | None) -> Markup:
    """The clean text as HTML: each fact span a link to its resource, an id="char=b,e" anchor at each span start."""
    out, anchored = [], set()
    for start, end, covering in _segments(len(text), spans):
        for b, e, _ in sorted(spans, key=lambda r: (r[0], -r[1])):
            if b == start and (b, e) not in anchored:
                anchored.add((b, e))
                out.append(Markup('<span class="anchor" id="char={},{}"></span>').format(b, e))
        piece = escape(text[start:end])
        if not covering:
            out.append(piece)
            continue
        inner = covering[0][2]
        classes = f"hl k-{inner['kind']} d-{min(len(covering), 3)}"
        if selected and selected[0] <= start and end <= selected[1]:
            classes += " selected"
        out.append(Markup('<a class="{}" href="{}" title="{}">{}</a>').format(
            classes, inner["href"], inner["title"], piece))
    return Markup("").join(out)


def marked_raw(raw: str, repairs: list[tuple[int, int, dict]]) -> Markup:
    """The raw text as HTML with each repaired stretch in a <mark> whose title says what became of it."""
    out = []
    for start, end, covering in _segments(len(raw), repairs):
        piece = escape(raw[start:end])
        if covering:
            info = covering[0][2]
            out.append(Markup('<mark class="r-{}" title="{}">{}</mark>').format(info["kind"], info["title"], piece))
        else:
            out.append(piece)
    return Markup("").join(out)


def _raw_text(iri: str) -> str | None:
    """The shipped article file, only if its SHA-256 is the one the provenance graph records."""
    slug = iri.rsplit("/", 1)[1]
    files = {source.slug: source.path.name for source in shipped()}
    rows = pages.select(f"SELECT ?h WHERE {{ <{iri}/raw> <{PKG}sha256> ?h }}")
    path = SOURCES / files.get(slug, f"{slug}.txt")
    if not rows or not path.is_file():
        return None
    data = path.read_bytes()
    return data.decode("utf-8") if hashlib.sha256(data).hexdigest() == rows[0]["h"].value.lower() else None


def _selected() -> tuple[int, int] | None:
    match = _SPAN.fullmatch(request.args.get("span", ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def _one_per_defect(rows: list[dict], lang: str) -> list[dict]:
    """One row per defect, its comment in the chosen language when it has one."""
    chosen: dict[str, dict] = {}
    for row in rows:
        best = chosen.get(row["d"].value)
        if best is None or ("comment" in row and row["comment"].lang.startswith(lang)):
            chosen[row["d"].value] = row
    return list(chosen.values())


def page(iri: str, *, alternates):
    """Render the article page for the news item `iri`."""
    lang = pages.language()
    context = pages.select(f"SELECT ?text WHERE {{ ?c <{NIF}sourceUrl> <{iri}> ; <{NIF}isString> ?text }} LIMIT 1")
    text = context[0]["text"].value if context else ""
    rows = pages.select(
        f"SELECT ?r ?b ?e (SAMPLE(?t) AS ?type) WHERE {{ ?r <{PKG}span> ?s . "
        f"?s <{NIF}referenceContext>/<{NIF}sourceUrl> <{iri}> ; <{NIF}beginIndex> ?b ; <{NIF}endIndex> ?e . "
        f"OPTIONAL {{ ?r a ?t FILTER(STRSTARTS(STR(?t), \"{PKG}\")) }} "
        f"FILTER NOT EXISTS {{ ?r a <{PKG}Repair> }} }} GROUP BY ?r ?b ?e")  # repairs are marked in the raw text
    labels = pages.labels_for({row["r"].value for row in rows}, lang)
    spans = []
    for row in rows:
        resource = row["r"].value
        kind = row["type"].value[len(PKG):].lower() if "type" in row else "other"
        spans.append((_int(row["b"]), _int(row["e"]), {
            "kind": kind, "href": pages.local(resource) or resource,
            "title": labels.get(resource) or pages.compact(resource)}))
    repairs_rows = pages.select(
        f"SELECT ?r ?kind ?s ?e ?raw ?res WHERE {{ ?r a <{PKG}Repair> ; <{PKG}repairKind> ?kind ; "
        f"<{PKG}rawStart> ?s ; <{PKG}rawEnd> ?e . OPTIONAL {{ ?r <{PKG}rawText> ?raw }} "
        f"OPTIONAL {{ ?r <{PKG}result> ?res }} FILTER(STRSTARTS(STR(?r), \"{iri}/\")) }}")
    repairs, kinds = [], {}
    for row in repairs_rows:
        kind = row["kind"].value
        kinds[kind] = kinds.get(kind, 0) + 1
        title = f"{kind}: → «{row['res'].value}»" if "res" in row else kind
        repairs.append((_int(row["s"]), _int(row["e"]), {"kind": re.sub(r"[^a-z0-9-]", "", kind), "title": title}))
    rows = pages.select(
        f"SELECT ?d ?kind ?comment ?area ?span WHERE {{ ?d a <{PKG}SourceDefect> . "
        f"OPTIONAL {{ ?d <{PKG}defectKind> ?kind }} OPTIONAL {{ ?d <{RDFS}comment> ?comment }} "
        f"OPTIONAL {{ ?d <{PKG}affects> ?area }} OPTIONAL {{ ?d <{PKG}span> ?span }} "
        f"FILTER(STRSTARTS(STR(?d), \"{iri}/\")) }} ORDER BY ?d")
    defects = _one_per_defect(rows, lang)
    defect_labels = pages.labels_for({r[k].value for r in defects for k in ("d", "area") if k in r}, lang)
    raw = _raw_text(iri)
    return pages.page("article.html", alternates=alternates, iri=iri, title=pages.labels_for({iri}, lang).get(iri, iri),
                      clean=highlighted(text, spans, _selected()), raw=marked_raw(raw, repairs) if raw else None,
                      repair_kinds=sorted(kinds.items()), repair_count=len(repairs), span_count=len(spans),
                      defects=defects, defect_labels=defect_labels)
